import { describe, expect, it } from 'vitest';
import { strftime } from '../../../src/native/generate/strftime';

describe('strftime (Python, C locale)', () => {
  const d = new Date(2024, 6, 26, 9, 5, 3); // local time: Fri 26 July 2024 09:05:03
  it('formats the directives chat templates use, in English whatever the machine locale', () => {
    expect(strftime(d, '%d %b %Y')).toBe('26 Jul 2024');
    expect(strftime(d, '%A, %B %e, %y')).toBe('Friday, July 26, 24');
    expect(strftime(d, '%H:%M:%S %I%p %j %F %%')).toBe('09:05:03 09AM 208 2024-07-26 %');
  });
  it('leaves unknown directives alone', () => {
    expect(strftime(d, '%Q %Y')).toBe('%Q 2024');
  });
});
