// Images that do not load are replaced by the product's initial, as the pages draw a product without an image.
for (const img of document.querySelectorAll("img[data-initial]")) {
  const swap = () => {
    const box = document.createElement("div");
    box.className = "placeholder";
    box.textContent = img.dataset.initial || "?";
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", img.alt);
    img.replaceWith(box);
  };
  if (img.complete && img.naturalWidth === 0) swap();
  else img.addEventListener("error", swap);
}
