// "Copier le lien" buttons of a session's public link: shown only when the clipboard is usable.
document.querySelectorAll("[data-copy-link]").forEach((button) => {
  const link = document.querySelector(button.dataset.copyLink);
  const status = button.parentElement.querySelector("[data-copy-status]");
  if (!link || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(link.href).then(
      () => { if (status) status.textContent = "Lien copié."; },
      () => { if (status) status.textContent = "Le lien n'a pas pu être copié : sélectionnez-le."; },
    );
  });
});
