import { useState } from "react";

import { formatCombo, useShortcutList, useShortcuts } from "@/lib/shortcuts";

/** "?" opens a list of every shortcut registered on the current screen, grouped. */
export function ShortcutHelp() {
  const [open, setOpen] = useState(false);
  const list = useShortcutList();
  useShortcuts([
    { keys: ["?"], description: "Show or hide this list of shortcuts", group: "General", run: () => setOpen((o) => !o) },
  ]);
  // Registered while open only, so it is the latest registration and wins over screen keys.
  useShortcuts([{ keys: ["Escape"], description: "Close this list", group: "General", inInputs: true, run: () => setOpen(false) }], open);
  if (!open) return null;
  const groups = new Map<string, typeof list>();
  for (const s of list) {
    if (s.hidden) continue;
    const key = `${s.group}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="shortcut-help" onClick={() => setOpen(false)}>
      <div className="overlay-panel shortcut-help" onClick={(e) => e.stopPropagation()}>
        <div className="overlay-head">
          <h2>Keyboard shortcuts</h2>
          <button type="button" className="btn btn-ghost" onClick={() => setOpen(false)} aria-label="Close">
            ✕
          </button>
        </div>
        <div className="shortcut-groups">
          {[...groups.entries()].map(([group, items]) => (
            <section key={group}>
              <h3>{group}</h3>
              <table>
                <tbody>
                  {items.map((s) => (
                    <tr key={`${s.description}-${s.keys.join()}`}>
                      <td className="keys">
                        {s.label ? <kbd>{s.label}</kbd> : s.keys.map((k) => <kbd key={k}>{formatCombo(k)}</kbd>)}
                      </td>
                      <td>{s.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ))}
        </div>
      </div>
    </div>
  );
}
