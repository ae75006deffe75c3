// The door page: filter the list while typing (the search works without this, on the server), and scan a
// QR code inside the page where the browser has BarcodeDetector (else the phone's camera opens the URL).
(function () {
  "use strict";
  var input = document.getElementById("recherche");
  var list = document.getElementById("personnes");
  if (input && list) {
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      list.querySelectorAll("li[data-name]").forEach(function (item) {
        var text = item.getAttribute("data-name");
        item.hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
      });
    });
  }
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var zone = document.getElementById("scan-zone");
  var start = document.getElementById("scan-start");
  var video = document.getElementById("scan-video");
  if (!zone || !start || !video) return;
  zone.hidden = false;
  start.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var look = function () {
        detector.detect(video).then(function (codes) {
          var found = codes.map(function (c) { return c.rawValue; }).filter(function (value) {
            try { return new URL(value, window.location.href).origin === window.location.origin; } catch (e) { return false; }
          })[0];
          if (found) {
            stream.getTracks().forEach(function (track) { track.stop(); });
            window.location.assign(found);
          } else {
            window.setTimeout(look, 250);
          }
        }).catch(function () { window.setTimeout(look, 500); });
      };
      look();
    }).catch(function () { start.disabled = true; });
  });
})();
