// Progressive enhancement only: every page works without this file.
// Copy buttons (hidden until this script shows them) and a confirmation before deleting.
"use strict";

async function copyText(source) {
  const text = source.textContent.trim();
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain http: select the text and use the older copy command.
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const copied = document.execCommand("copy");
  selection.removeAllRanges();
  if (!copied) throw new Error("copy refused");
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.hidden = false;
    const label = button.textContent;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await copyText(source);
        button.textContent = "✓ " + label;
      } catch (error) {
        button.textContent = "✗ " + label;
      }
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});

// The colour list follows the chosen theme at once (without this script, saving the theme shows its colours).
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("select[data-follows=theme]");
  if (!select) return;
  for (const hint of document.querySelectorAll(".no-js")) hint.hidden = true;
  for (const radio of document.querySelectorAll("input[name=theme][data-colours]")) {
    radio.addEventListener("change", () => {
      if (!radio.checked) return;
      select.replaceChildren(...JSON.parse(radio.dataset.colours).map(([key, label]) => new Option(label, key)));
    });
  }
});

// The search-result preview follows the title and description as they are typed.
document.addEventListener("DOMContentLoaded", () => {
  const preview = document.querySelector(".search-preview");
  if (!preview) return;
  const pairs = [["seo_title", ".serp-title", 70], ["description", ".serp-description", 160]];
  for (const [field, target, limit] of pairs) {
    const input = document.getElementById(field);
    const shown = preview.querySelector(target);
    if (!input || !shown) continue;
    input.addEventListener("input", () => {
      const text = input.value.trim() || shown.dataset.default;
      shown.textContent = text.length > limit ? text.slice(0, limit - 1) + "…" : text;
    });
  }
});
