import { useState } from 'react';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { AnimatedNumber } from './AnimatedNumber';
import { renderWithProviders } from '../test/utils';

function Harness() {
  const [value, setValue] = useState(100);
  return (
    <>
      <AnimatedNumber value={value} format={String} data-testid="n" />
      <button onClick={() => setValue((v) => v + 50)}>add</button>
      <button onClick={() => setValue((v) => v)}>same</button>
    </>
  );
}

describe('AnimatedNumber', () => {
  it('flashes only when the value changes', async () => {
    renderWithProviders(<Harness />);
    expect(screen.getByTestId('n')).not.toHaveClass('patron-flash');
    await userEvent.click(screen.getByRole('button', { name: 'same' }));
    expect(screen.getByTestId('n')).not.toHaveClass('patron-flash');
    await userEvent.click(screen.getByRole('button', { name: 'add' }));
    expect(screen.getByTestId('n')).toHaveClass('patron-flash');
    expect(screen.getByTestId('n')).toHaveTextContent('150');
    expect(screen.getByTestId('n')).toHaveAttribute('data-value', '150');
  });
});
