import { isoToLocal, localToIso, nextDay, todayIn } from './time';

describe('shop time zone helpers', () => {
  it('attaches the zone offset of that instant, DST included', () => {
    expect(localToIso('2026-01-15 09:30:00', 'America/New_York')).toBe('2026-01-15T09:30:00-05:00');
    expect(localToIso('2026-07-15 09:30', 'America/New_York')).toBe('2026-07-15T09:30:00-04:00');
    expect(localToIso('2026-03-21', 'Asia/Tehran')).toBe('2026-03-21T00:00:00+03:30');
    expect(localToIso('', 'Asia/Tehran')).toBeNull();
  });

  it('reads an instant as the shop wall clock', () => {
    expect(isoToLocal('2026-11-27T05:00:00+00:00', 'America/New_York')).toBe('2026-11-27 00:00:00');
    expect(isoToLocal(null, 'UTC')).toBeNull();
  });

  it('knows the shop day', () => {
    const now = new Date('2026-03-01T22:00:00Z');
    expect(todayIn('Asia/Tehran', 0, now)).toBe('2026-03-02');
    expect(todayIn('America/New_York', -1, now)).toBe('2026-02-28');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });
});
