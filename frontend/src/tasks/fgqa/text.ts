/** Free-text checks of FGQA answers, reasons and distractors, as annotation/services/fgqa.py `_text`. */
import { normalizeCaption } from "@/lib/segments";

export const MAX_TEXT = 2000;

// eslint-disable-next-line no-control-regex -- these are exactly the characters being refused
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const MARKUP = /<\s*\/?\s*[a-zA-Z!][^>]*>/;

/** The problem with a required free-text field (`what` names it: "The answer"), or null. */
export function checkText(value: string, what: string): string | null {
  const text = normalizeCaption(value);
  if (!text) return `${what} is empty.`;
  if ([...text].length > MAX_TEXT) return `${what} is longer than ${MAX_TEXT} characters.`;
  if (CONTROL.test(value) || MARKUP.test(text)) {
    return `${what} must be plain text (no markup or control characters).`;
  }
  return null;
}

/** Python's str.casefold() is close enough to toLowerCase() for the comparisons made here. */
export const fold = (text: string) => normalizeCaption(text).toLowerCase();
