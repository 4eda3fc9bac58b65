import { useEffect, useRef, useState } from 'react';
import { Text, type TextProps } from '@mantine/core';

interface AnimatedNumberProps extends TextProps {
  /** The raw value (also exposed as `data-value` for tests and scripts). */
  value: number;
  /** How to show it (Persian digits, grouping, units). */
  format: (value: number) => string;
  'data-testid'?: string;
}

/**
 * A number that flashes briefly when it changes after the first render, so a live update
 * catches the eye.
 */
export function AnimatedNumber({ value, format, ...props }: AnimatedNumberProps) {
  const previous = useRef(value);
  const [flashes, setFlashes] = useState(0);
  useEffect(() => {
    if (previous.current !== value) {
      previous.current = value;
      setFlashes((n) => n + 1);
    }
  }, [value]);
  return (
    <Text
      component="span"
      // A new key restarts the CSS animation on every change.
      key={flashes}
      className={flashes ? 'patron-flash' : undefined}
      data-value={value}
      data-changed={flashes || undefined}
      {...props}
    >
      {format(value)}
    </Text>
  );
}
