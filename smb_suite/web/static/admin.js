// Progressive enhancement only: every page works without this file.
// Copy buttons (shown only when the clipboard is available) and a confirmation before deleting.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (navigator.clipboard) {
    for (const button of document.querySelectorAll("button.copy[data-copy]")) {
      button.hidden = false;
      const label = button.textContent;
      button.addEventListener("click", async () => {
        const source = document.getElementById(button.dataset.copy);
        if (!source) return;
        try {
          await navigator.clipboard.writeText(source.textContent.trim());
          button.textContent = "✓ " + label;
        } catch (error) {
          button.textContent = "✗ " + label;
        }
        setTimeout(() => { button.textContent = label; }, 2000);
      });
    }
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
