import { findShortcut, formatCombo, handleKeydown, isTypingTarget, matchesCombo, parseCombo, registerShortcuts, type Shortcut } from "./shortcuts";

const key = (k: string, mods: Partial<Record<"ctrlKey" | "metaKey" | "altKey" | "shiftKey", boolean>> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe("parseCombo", () => {
  it("reads modifiers, aliases and the plus key", () => {
    expect(parseCombo("shift+ArrowLeft")).toMatchObject({ key: "arrowleft", shift: true, ctrl: false });
    expect(parseCombo("space").key).toBe(" ");
    expect(parseCombo("mod+Enter")).toMatchObject({ key: "enter", mod: true });
    expect(parseCombo("+").key).toBe("+");
    expect(parseCombo("shift++")).toMatchObject({ key: "+", shift: true });
    expect(() => parseCombo("hyper+x")).toThrow(/modifier/);
  });
});

describe("matchesCombo", () => {
  it("tells ±1 from ±10 frame steps by Shift", () => {
    expect(matchesCombo(key("ArrowLeft"), parseCombo("ArrowLeft"))).toBe(true);
    expect(matchesCombo(key("ArrowLeft", { shiftKey: true }), parseCombo("ArrowLeft"))).toBe(false);
    expect(matchesCombo(key("ArrowLeft", { shiftKey: true }), parseCombo("shift+ArrowLeft"))).toBe(true);
  });

  it("matches letters in either case but not with Ctrl held", () => {
    expect(matchesCombo(key("T"), parseCombo("t"))).toBe(true); // Caps Lock
    expect(matchesCombo(key("T", { shiftKey: true }), parseCombo("t"))).toBe(false); // Shift+T is another shortcut
    expect(matchesCombo(key("T", { shiftKey: true }), parseCombo("shift+t"))).toBe(true);
    expect(matchesCombo(key("t"), parseCombo("t"))).toBe(true);
    expect(matchesCombo(key("t", { ctrlKey: true }), parseCombo("t"))).toBe(false);
  });

  it("ignores Shift for punctuation keys (? and + need it on most layouts)", () => {
    expect(matchesCombo(key("?", { shiftKey: true }), parseCombo("?"))).toBe(true);
    expect(matchesCombo(key("+", { shiftKey: true }), parseCombo("+"))).toBe(true);
    expect(matchesCombo(key("-"), parseCombo("-"))).toBe(true);
  });

  it("maps mod to Ctrl off macOS and ⌘ on macOS", () => {
    expect(matchesCombo(key("Enter", { ctrlKey: true }), parseCombo("mod+Enter"), false)).toBe(true);
    expect(matchesCombo(key("Enter", { metaKey: true }), parseCombo("mod+Enter"), false)).toBe(false);
    expect(matchesCombo(key("Enter", { metaKey: true }), parseCombo("mod+Enter"), true)).toBe(true);
  });
});

describe("formatCombo", () => {
  it("writes keys the way the help overlay shows them", () => {
    expect(formatCombo("shift+ArrowRight", false)).toBe("Shift + →");
    expect(formatCombo("space", false)).toBe("Space");
    expect(formatCombo("mod+Enter", false)).toBe("Ctrl + Enter");
    expect(formatCombo("mod+Enter", true)).toBe("⌘ + Enter");
    expect(formatCombo("g", false)).toBe("G");
  });
});

describe("registry", () => {
  const make = (keys: string[], run: () => void, inInputs = false): Shortcut => ({ keys, description: keys.join(), group: "T", run, inInputs });

  it("lets the latest registration win and restores the earlier one when it goes", () => {
    const calls: string[] = [];
    const offA = registerShortcuts([make(["Escape"], () => calls.push("editor"))]);
    const offB = registerShortcuts([make(["Escape"], () => calls.push("dialog"))]);
    findShortcut(key("Escape"), false)?.run(new KeyboardEvent("keydown"));
    offB();
    findShortcut(key("Escape"), false)?.run(new KeyboardEvent("keydown"));
    offA();
    expect(calls).toEqual(["dialog", "editor"]);
    expect(findShortcut(key("Escape"), false)).toBeNull();
  });

  it("stays out of text fields unless a shortcut asks to work there", () => {
    const off = registerShortcuts([make(["t"], () => undefined), make(["Escape"], () => undefined, true)]);
    expect(findShortcut(key("t"), true)).toBeNull();
    expect(findShortcut(key("Escape"), true)).not.toBeNull();
    off();
  });

  it("handles a real keydown: prevents the default and runs the handler, but not while typing", () => {
    let ran = 0;
    const off = registerShortcuts([make(["space"], () => (ran += 1))]);
    const onBody = new KeyboardEvent("keydown", { key: " ", cancelable: true });
    document.body.dispatchEvent(onBody);
    expect(handleKeydown(onBody)).toBe(true);
    expect(onBody.defaultPrevented).toBe(true);
    const input = document.createElement("input");
    document.body.appendChild(input);
    const typing = new KeyboardEvent("keydown", { key: " ", cancelable: true });
    input.dispatchEvent(typing);
    expect(handleKeydown(typing)).toBe(false);
    expect(ran).toBe(1);
    input.remove();
    off();
  });
});

describe("isTypingTarget", () => {
  it("counts text inputs, textareas and selects, not checkboxes or buttons", () => {
    const el = (tag: string, type?: string) => {
      const e = document.createElement(tag);
      if (type) (e as HTMLInputElement).type = type;
      return e;
    };
    expect(isTypingTarget(el("input", "text"))).toBe(true);
    expect(isTypingTarget(el("textarea"))).toBe(true);
    expect(isTypingTarget(el("select"))).toBe(true);
    expect(isTypingTarget(el("input", "checkbox"))).toBe(false);
    expect(isTypingTarget(el("button"))).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
