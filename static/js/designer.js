// The designer's drag and drop: drop a step on another to put it there.
// Every move is also a button (↑ ↓), so the keyboard does the same.
(function () {
  "use strict";
  let dragged = null;
  document.addEventListener("dragstart", function (event) {
    const node = event.target.closest && event.target.closest("[data-step]");
    if (!node) return;
    dragged = node;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", node.dataset.step);
    node.classList.add("xc-dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("xc-dragging");
    dragged = null;
  });
  document.addEventListener("dragover", function (event) {
    const node = event.target.closest && event.target.closest("[data-step]");
    if (dragged && node && node !== dragged) event.preventDefault();
  });
  document.addEventListener("drop", function (event) {
    const node = event.target.closest && event.target.closest("[data-step]");
    if (!dragged || !node || node === dragged) return;
    event.preventDefault();
    const canvas = document.getElementById("canvas");
    const form = document.createElement("form");
    form.method = "post";
    form.action = canvas.dataset.moveUrl + "steps/" + dragged.dataset.step + "/move/";
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    for (const [name, value] of [["csrfmiddlewaretoken", token ? token.value : ""], ["to", node.dataset.index]]) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  });
})();
