// Progressive enhancement: a "Copy" button for a read-only field. Without JavaScript the
// button stays hidden and the field can be selected and copied by hand.
for (const button of document.querySelectorAll("[data-copy-target]")) {
  const field = document.getElementById(button.dataset.copyTarget);
  const status = document.getElementById(button.dataset.copyStatus);
  if (!field || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = "Token copied.";
    } catch {
      field.select();
      if (status) status.textContent = "Select the token and copy it.";
    }
  });
}
