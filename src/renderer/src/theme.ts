// Applies the theme choice to <html>. With no attribute the CSS follows the
// OS (prefers-color-scheme); an attribute forces light or dark. The choice
// is also remembered locally so the first paint after a reload is already
// right, before the engine's copy of the setting arrives.
import type { Settings } from '@shared/contract';

const storageKey = 'deepen.theme';

export function applyTheme(choice: Settings['theme']): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    localStorage.setItem(storageKey, choice);
  } catch {
    // storage can be unavailable (private mode); the engine keeps the setting anyway
  }
}

export function storedTheme(): Settings['theme'] {
  try {
    const value = localStorage.getItem(storageKey);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}
