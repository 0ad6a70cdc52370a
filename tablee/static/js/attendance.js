// Attendance at the door: filter the registrants by name as one types, and add up the headcount
// cells as they are filled (the server computes the total that counts; this one only helps).
document.querySelectorAll("[data-attendance-filter]").forEach((input) => {
  const list = document.querySelector(input.dataset.attendanceFilter);
  if (!list) return;
  const fold = (text) => text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  input.addEventListener("input", () => {
    const wanted = fold(input.value.trim());
    list.querySelectorAll("[data-attendance-name]").forEach((item) => {
      item.hidden = wanted !== "" && !fold(item.dataset.attendanceName).includes(wanted);
    });
  });
});

document.querySelectorAll("[data-headcount-form]").forEach((form) => {
  const output = form.querySelector("[data-headcount-total]");
  if (!output) return;
  const update = () => {
    let total = 0;
    form.querySelectorAll('input[type="number"]').forEach((field) => {
      const value = Number.parseInt(field.value, 10);
      if (Number.isInteger(value) && value > 0) total += value;
    });
    output.textContent = String(total);
  };
  form.addEventListener("input", update);
  update();
});
