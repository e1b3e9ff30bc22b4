/* The product page's variant picker: one radio group per option chooses the variant, and the
   price, the stock and the "Add to cart" button follow the choice.

   The variants come from the page's <script type="application/json" id="variant-data"> block:
   data, never run, so the Content-Security-Policy (no inline script) is kept. The form still
   posts the <select name="variant_id"> that works without this script; here it is hidden and
   set to the chosen variant. */
(function () {
  "use strict";

  var block = document.getElementById("variant-data");
  var options = document.getElementById("variant-options");
  var select = document.getElementById("variant-id");
  var selectField = document.getElementById("variant-select");
  if (!block || !options || !select || !selectField) {
    return;
  }
  var data = JSON.parse(block.textContent);
  var variants = data.variants || [];
  var price = document.querySelector("#product-price [data-price]");
  var from = document.querySelector("#product-price [data-from]");
  var stock = document.getElementById("product-stock");
  var button = document.getElementById("add-to-cart");
  var quantity = document.getElementById("quantity");
  var image = document.querySelector(".product-image");
  var radios = Array.prototype.slice.call(options.querySelectorAll("input[type=radio]"));
  var original = image && {
    src: image.getAttribute("src"),
    srcset: image.getAttribute("srcset"),
    width: image.getAttribute("width"),
    height: image.getAttribute("height")
  };

  function picked() {
    var choice = {};
    radios.forEach(function (radio) {
      if (radio.checked) {
        choice[radio.getAttribute("data-option")] = radio.value;
      }
    });
    return choice;
  }

  function variantFor(choice) {
    for (var i = 0; i < variants.length; i += 1) {
      var names = Object.keys(variants[i].options);
      var matches = names.every(function (name) {
        return variants[i].options[name] === choice[name];
      });
      if (matches) {
        return variants[i];
      }
    }
    return null;
  }

  function showImage(picture) {
    if (!image) {
      return;
    }
    var shown = picture || original;
    image.setAttribute("src", shown.src);
    image.setAttribute("width", shown.width);
    image.setAttribute("height", shown.height);
    if (shown.srcset) {
      image.setAttribute("srcset", shown.srcset);
    } else {
      image.removeAttribute("srcset");
    }
  }

  /* Each value that, with the other choices kept, names no variant in stock is marked. */
  function markUnavailable(choice) {
    radios.forEach(function (radio) {
      var name = radio.getAttribute("data-option");
      var other = Object.assign({}, choice);
      other[name] = radio.value;
      var variant = variantFor(other);
      var unavailable = !variant || !variant.in_stock;
      radio.parentNode.classList.toggle("option-unavailable", unavailable);
      // Said as well as struck through: ", out of stock" for screen readers.
      var label = radio.parentNode.querySelector("label");
      var note = label.querySelector(".visually-hidden");
      if (unavailable && !note) {
        note = document.createElement("span");
        note.className = "visually-hidden";
        note.textContent = variant ? ", out of stock" : ", not available";
        label.appendChild(note);
      } else if (!unavailable && note) {
        label.removeChild(note);
      }
    });
  }

  function show() {
    var choice = picked();
    var variant = variantFor(choice);
    markUnavailable(choice);
    if (from) {
      from.hidden = true;
    }
    if (!variant) {
      stock.textContent = "Not available in this combination";
      button.disabled = true;
      select.selectedIndex = -1;
      return;
    }
    price.textContent = variant.price;
    stock.textContent = variant.stock_text;
    button.disabled = !variant.in_stock;
    select.value = variant.id;
    quantity.max = String(Math.max(1, variant.max_quantity));
    if (variant.max_quantity > 0 && Number(quantity.value) > variant.max_quantity) {
      quantity.value = String(variant.max_quantity);
    }
    showImage(variant.image);
  }

  options.hidden = false;
  selectField.hidden = true;
  options.addEventListener("change", show);
  show();
})();
