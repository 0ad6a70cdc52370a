// "Imprimer" buttons: shown only when this script runs, they open the browser's print dialog.
document.querySelectorAll("[data-print-page]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
