// Scan a follower's QR code with the phone's camera on the till page and
// look the end-user ID up. Uses the browser's BarcodeDetector where it
// exists; elsewhere the button stays hidden and staff type the ID.
const button = document.getElementById("scan");
const video = document.getElementById("scan-video");
const input = document.getElementById("f-euid");
const status = document.getElementById("scan-status");

if (button && "BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia) {
  button.hidden = false;
  let stream = null;
  const stop = () => {
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
    button.textContent = "Scan QR code";
  };
  button.addEventListener("click", async () => {
    if (stream) return stop();
    try {
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      button.textContent = "Stop scanning";
      status.textContent = "Point the camera at the code in the follower's app.";
      const tick = async () => {
        if (!stream) return;
        const codes = await detector.detect(video).catch(() => []);
        if (codes.length > 0) {
          input.value = codes[0].rawValue.trim();
          stop();
          status.textContent = "Scanned " + input.value + ".";
          input.form.requestSubmit();
          return;
        }
        requestAnimationFrame(tick);
      };
      tick();
    } catch (err) {
      stop();
      status.textContent = "The camera is not available (" + err.message + "). Type the ID instead.";
    }
  });
}
