/* Atelier studio: small progressive enhancements on top of server-rendered pages and htmx.
   Everything here has a no-JavaScript fallback: file inputs post with the form, links open
   the full file, the menu is always shown. Event delegation on document, so content swapped
   in by htmx works without re-binding. */
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function fire(input) {
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function setField(input, url, multiple) {
    if (multiple) {
      var lines = input.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
      lines.push(url);
      input.value = lines.join("\n");
    } else {
      input.value = url;
    }
    fire(input);
  }

  // ---- the header menu on narrow screens ------------------------------------------------
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".menu-toggle");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.getElementById(toggle.getAttribute("aria-controls")).classList.toggle("open", open);
  });

  // ---- uploads: drop zones and file pickers beside image, audio and video fields ---------
  function preview(zone, data) {
    var box = zone.querySelector(".dropzone-preview");
    if (!box) return;
    if (!zone.hasAttribute("data-multiple")) box.textContent = "";
    if (data.thumbnail) {
      var img = document.createElement("img");
      img.src = data.thumbnail;
      img.alt = "Uploaded: " + (data.name || data.kind);
      box.appendChild(img);
    }
  }

  function upload(zone, file) {
    var status = zone.querySelector(".dropzone-status");
    var input = document.getElementById(zone.getAttribute("data-target"));
    var body = new FormData();
    body.append("file", file);
    var request = new XMLHttpRequest();
    request.open("POST", zone.getAttribute("data-upload-url"));
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("Accept", "application/json");
    zone.classList.add("busy");
    status.textContent = "Uploading " + file.name + "…";
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        status.textContent = "Uploading " + file.name + "… " + Math.round((100 * event.loaded) / event.total) + "%";
      }
    };
    request.onload = function () {
      zone.classList.remove("busy");
      var data = {};
      try { data = JSON.parse(request.responseText); } catch (e) { data = {}; }
      if (request.status === 201 && data.url) {
        setField(input, data.url, zone.hasAttribute("data-multiple"));
        preview(zone, data);
        status.textContent = "Uploaded " + (data.name || "the file") + ".";
        zone.setAttribute("data-uploaded", "1");
      } else {
        status.textContent = (data.error && data.error.message) || "The upload failed; try again.";
        status.classList.add("error");
      }
    };
    request.onerror = function () {
      zone.classList.remove("busy");
      status.textContent = "The upload failed: check your connection and try again.";
      status.classList.add("error");
    };
    status.classList.remove("error");
    request.send(body);
  }

  function uploadAll(zone, files) {
    var list = Array.prototype.slice.call(files || []);
    if (!zone.hasAttribute("data-multiple")) list = list.slice(0, 1);
    list.forEach(function (file) { upload(zone, file); });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".dropzone input[type=file]")) return;
    var zone = input.closest("[data-dropzone]");
    uploadAll(zone, input.files);
    input.value = ""; // uploaded now: the form posts the URL, not the file again
  });

  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var zone = event.target.closest && event.target.closest("[data-dropzone]");
      if (!zone) return;
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("over");
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("over");
    uploadAll(zone, event.dataTransfer && event.dataTransfer.files);
  });

  // ---- picking one of the workspace's results as an input --------------------------------
  document.addEventListener("click", function (event) {
    var item = event.target.closest("[data-pick]");
    if (!item) return;
    var input = document.getElementById(item.getAttribute("data-field"));
    var zone = input && input.closest("[data-dropzone]");
    if (!input) return;
    setField(input, item.getAttribute("data-pick"), zone && zone.hasAttribute("data-multiple"));
    var picker = item.closest(".picker");
    if (picker) picker.textContent = "";
    if (zone) zone.querySelector(".dropzone-status").textContent = "Picked one of your results.";
    input.focus();
  });

  // ---- copy (seeds) -----------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {});
    }
  });

  // ---- full-size viewer with keyboard navigation -----------------------------------------
  var viewer = null;
  var items = [];
  var index = 0;
  var opener = null;

  function show(position) {
    index = (position + items.length) % items.length;
    var item = items[index];
    var img = viewer.querySelector(".viewer-stage img");
    img.src = item.getAttribute("data-full");
    var thumb = item.querySelector("img");
    img.alt = thumb ? thumb.alt : "";
    viewer.querySelector("figcaption").textContent = item.getAttribute("data-caption") || "";
    viewer.querySelector(".viewer-count").textContent = items.length > 1 ? (index + 1) + " of " + items.length : "";
    viewer.querySelector(".viewer-download").href = item.getAttribute("data-download") || item.href;
    var several = items.length > 1;
    viewer.querySelector(".viewer-prev").hidden = !several;
    viewer.querySelector(".viewer-next").hidden = !several;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-full]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    viewer = document.getElementById("viewer");
    if (!viewer || !viewer.showModal) return;
    event.preventDefault();
    var scope = link.closest(".outputs, .gen") || document;
    items = Array.prototype.slice.call(scope.querySelectorAll("a[data-full]"));
    opener = link;
    show(items.indexOf(link));
    viewer.showModal();
    viewer.querySelector(".viewer-close").focus();
  });

  document.addEventListener("click", function (event) {
    if (!viewer || !viewer.open) return;
    if (event.target.closest(".viewer-next")) show(index + 1);
    else if (event.target.closest(".viewer-prev")) show(index - 1);
    else if (event.target.closest(".viewer-close") || event.target === viewer) viewer.close();
  });

  document.addEventListener("keydown", function (event) {
    if (!viewer || !viewer.open) return;
    if (event.key === "ArrowRight") { show(index + 1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { show(index - 1); event.preventDefault(); }
  });

  document.addEventListener("close", function (event) {
    if (event.target === viewer && opener) opener.focus();
  }, true);
})();
