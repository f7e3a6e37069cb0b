/**
 * Keyboard shortcuts: one registry for the whole app, so the help overlay ("?") lists exactly
 * the keys that work on the current screen.
 *
 * A binding is a combo string: modifiers joined with "+" before the key, e.g. "space", "t",
 * "shift+ArrowLeft", "mod+Enter" (mod = Ctrl, or ⌘ on macOS), "?", "+". Letters match either
 * case; for a single punctuation key ("?", "+", "-") the Shift state is ignored, because typing
 * those keys may need Shift depending on the layout.
 */
import { useEffect, useRef, useSyncExternalStore } from "react";

export type ShortcutDef = {
  /** One or more combos that trigger it. */
  keys: string[];
  /** What it does, for the help overlay. */
  description: string;
  /** Heading in the help overlay ("Player", "Objects", "Task"). */
  group: string;
  /** Also fire while typing in a text field (Escape-like keys). */
  inInputs?: boolean;
  /** Hidden from the help overlay (duplicates). */
  hidden?: boolean;
  /** How the help overlay writes the keys when listing each would be too long ("1–9"). */
  label?: string;
};

export type Shortcut = ShortcutDef & { run: (event: KeyboardEvent) => void };

export type Combo = {
  key: string;
  ctrl: boolean;
  meta: boolean;
  alt: boolean;
  shift: boolean;
  /** "mod": Ctrl or Meta, whichever the platform uses. */
  mod: boolean;
};

const KEY_ALIASES: Record<string, string> = {
  space: " ",
  spacebar: " ",
  esc: "escape",
  left: "arrowleft",
  right: "arrowright",
  up: "arrowup",
  down: "arrowdown",
  plus: "+",
  minus: "-",
  del: "delete",
  return: "enter",
};

export function parseCombo(combo: string): Combo {
  // "+" alone or as the last part ("shift++") is the plus key.
  const parts = combo === "+" ? ["+"] : combo.endsWith("++") ? [...combo.slice(0, -2).split("+"), "+"] : combo.split("+");
  const out: Combo = { key: "", ctrl: false, meta: false, alt: false, shift: false, mod: false };
  parts.forEach((raw, i) => {
    const part = raw.toLowerCase();
    if (i < parts.length - 1) {
      if (part === "ctrl" || part === "control") out.ctrl = true;
      else if (part === "meta" || part === "cmd") out.meta = true;
      else if (part === "alt" || part === "option") out.alt = true;
      else if (part === "shift") out.shift = true;
      else if (part === "mod") out.mod = true;
      else throw new Error(`Unknown modifier ${raw} in ${combo}`);
    } else {
      out.key = KEY_ALIASES[part] ?? part;
    }
  });
  if (!out.key) throw new Error(`No key in ${combo}`);
  return out;
}

const isMac = () => typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

type KeyLike = Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "shiftKey">;

/** Does the key event trigger the combo? */
export function matchesCombo(event: KeyLike, combo: Combo, mac = isMac()): boolean {
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key.toLowerCase();
  if (key !== combo.key) return false;
  const wantCtrl = combo.ctrl || (combo.mod && !mac);
  const wantMeta = combo.meta || (combo.mod && mac);
  if (event.ctrlKey !== wantCtrl || event.metaKey !== wantMeta || event.altKey !== combo.alt) return false;
  const punctuation = combo.key.length === 1 && !/[a-z0-9 ]/.test(combo.key);
  if (!punctuation && event.shiftKey !== combo.shift) return false;
  return true;
}

/** How a combo is written in the help overlay: "Shift + ←". */
export function formatCombo(combo: string, mac = isMac()): string {
  const c = parseCombo(combo);
  const names: Record<string, string> = {
    " ": "Space",
    arrowleft: "←",
    arrowright: "→",
    arrowup: "↑",
    arrowdown: "↓",
    escape: "Esc",
    enter: "Enter",
    home: "Home",
    end: "End",
    delete: "Delete",
    backspace: "Backspace",
    tab: "Tab",
  };
  const mods = [
    c.mod ? (mac ? "⌘" : "Ctrl") : null,
    c.ctrl ? "Ctrl" : null,
    c.meta ? "⌘" : null,
    c.alt ? (mac ? "⌥" : "Alt") : null,
    c.shift ? "Shift" : null,
  ].filter(Boolean);
  const key = names[c.key] ?? (c.key.length === 1 ? c.key.toUpperCase() : c.key);
  return [...mods, key].join(" + ");
}

export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== "string") return false;
  const el = target as HTMLElement;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (el as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "range", "color"].includes(type);
  }
  return false;
}

/* ---- registry ------------------------------------------------------------------------------ */

type Entry = { id: number; shortcuts: Shortcut[] };

let entries: Entry[] = [];
let nextId = 1;
const listeners = new Set<() => void>();
let snapshot: ShortcutDef[] = [];

function publish() {
  snapshot = entries.flatMap((e) =>
    e.shortcuts.map(({ keys, description, group, inInputs, hidden, label }) => ({ keys, description, group, inInputs, hidden, label })),
  );
  listeners.forEach((l) => l());
}

/** Register shortcuts; returns the function that removes them. Later registrations win. */
export function registerShortcuts(shortcuts: Shortcut[]): () => void {
  const entry = { id: nextId++, shortcuts };
  entries = [...entries, entry];
  publish();
  return () => {
    entries = entries.filter((e) => e.id !== entry.id);
    publish();
  };
}

/** The shortcut that a key event triggers, latest registration first. */
export function findShortcut(event: KeyLike, typing: boolean, list: readonly Entry[] = entries): Shortcut | null {
  for (let i = list.length - 1; i >= 0; i--) {
    for (const s of (list[i] as Entry).shortcuts) {
      if (typing && !s.inInputs) continue;
      if (s.keys.some((k) => matchesCombo(event, parseCombo(k)))) return s;
    }
  }
  return null;
}

export function handleKeydown(event: KeyboardEvent): boolean {
  if (event.defaultPrevented || event.isComposing) return false;
  const s = findShortcut(event, isTypingTarget(event.target));
  if (!s) return false;
  event.preventDefault();
  s.run(event);
  return true;
}

let installed = false;
/** Install the one window keydown listener (idempotent). */
export function installShortcutListener(): void {
  if (installed || typeof window === "undefined") return;
  installed = true;
  window.addEventListener("keydown", handleKeydown);
}

export function useShortcutList(): ShortcutDef[] {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => snapshot,
  );
}

/**
 * Register shortcuts while the component is mounted. The handlers may change every render (they
 * are read through a ref); the keys and descriptions are re-registered when `deps` change.
 */
export function useShortcuts(shortcuts: Shortcut[], enabled = true): void {
  const ref = useRef(shortcuts);
  useEffect(() => {
    ref.current = shortcuts;
  });
  const signature = shortcuts.map((s) => `${s.group}|${s.description}|${s.keys.join(",")}|${s.inInputs ? 1 : 0}`).join(";");
  useEffect(() => {
    if (!enabled) return;
    installShortcutListener();
    const defs = ref.current.map((s, i) => ({
      ...s,
      run: (event: KeyboardEvent) => ref.current[i]?.run(event),
    }));
    return registerShortcuts(defs);
    // `signature` stands for the definitions; the handlers come through the ref.
  }, [signature, enabled]);
}
