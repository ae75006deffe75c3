// The drawn signature: strokes on a canvas, sent as an SVG path of straight segments ("M x y L x y …", in the
// canvas' own 600×200 box). Without this script, the typed name signs alone. No library.
(function () {
  "use strict";
  function setUp(pad) {
    var canvas = pad.querySelector("canvas");
    var method = document.getElementById(pad.dataset.method);
    var drawing = document.getElementById(pad.dataset.drawing);
    var clear = pad.querySelector("[data-clear]");
    if (!canvas || !method || !drawing || !canvas.getContext) { return; }
    var context = canvas.getContext("2d");
    var path = [];
    var points = 0;
    var drawingNow = false;
    pad.hidden = false;
    context.lineWidth = 3;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";

    function at(event) {
      var box = canvas.getBoundingClientRect();
      var x = (event.clientX - box.left) * canvas.width / box.width;
      var y = (event.clientY - box.top) * canvas.height / box.height;
      return [Math.max(0, Math.min(canvas.width, Math.round(x))), Math.max(0, Math.min(canvas.height, Math.round(y)))];
    }
    var state = pad.querySelector("[data-pad-state]");
    function save() {
      drawing.value = path.join("");
      method.value = points >= 3 ? "drawn" : "typed";
      if (state) {
        state.textContent = points >= 3 ? pad.dataset.drawnText || "" : "";
      }
    }
    // A page sent back (a wrong password, a refusal) keeps the drawing it was sent with: draw it again, so that
    // what is signed is what is seen; anything unreadable is dropped and the typed name signs.
    function restore(value) {
      var command = /([ML])(-?[0-9.]+) (-?[0-9.]+)/g;
      var match;
      while ((match = command.exec(value)) !== null && points <= 1900) {
        var x = Number(match[2]);
        var y = Number(match[3]);
        path.push(match[1] + x + " " + y);
        points += 1;
        if (match[1] === "M") {
          if (points > 1) { context.stroke(); }
          context.beginPath();
          context.moveTo(x, y);
        } else {
          context.lineTo(x, y);
        }
      }
      if (points) { context.stroke(); }
      save();
    }
    restore(drawing.value || "");
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      if (points > 1900) { return; }
      drawingNow = true;
      canvas.setPointerCapture(event.pointerId);
      var p = at(event);
      path.push("M" + p[0] + " " + p[1]);
      points += 1;
      context.beginPath();
      context.moveTo(p[0], p[1]);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawingNow || points > 1900) { return; }
      var p = at(event);
      path.push("L" + p[0] + " " + p[1]);
      points += 1;
      context.lineTo(p[0], p[1]);
      context.stroke();
    });
    function stop() { if (drawingNow) { drawingNow = false; save(); } }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    if (clear) {
      clear.addEventListener("click", function () {
        path = [];
        points = 0;
        context.clearRect(0, 0, canvas.width, canvas.height);
        save();
      });
    }
  }
  document.querySelectorAll("[data-signature-pad]").forEach(setUp);
})();
