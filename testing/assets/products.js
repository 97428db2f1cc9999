/*
 * The demo shop: a catalog, a cart and a checkout that reports the order to the pixel as a purchase event.
 * Amounts are kept in cents so totals are exact; the purchase event carries them as decimal numbers.
 */
(function () {
  'use strict';

  var CURRENCY = 'USD';
  var FREE_SHIPPING_CENTS = 10000;
  var SHIPPING_CENTS = 995;

  var ART = {
    tent: '<path d="M8 52 L32 14 L56 52 Z" fill="none" stroke="currentColor" stroke-width="4" stroke-linejoin="round"/><path d="M32 14 L32 52 M24 52 L32 36 L40 52" fill="none" stroke="currentColor" stroke-width="4" stroke-linejoin="round"/>',
    pack: '<rect x="16" y="16" width="32" height="38" rx="10" fill="none" stroke="currentColor" stroke-width="4"/><path d="M24 16 V10 H40 V16 M22 34 H42 V44 H22 Z" fill="none" stroke="currentColor" stroke-width="4" stroke-linejoin="round"/>',
    boot: '<path d="M16 10 H32 V34 L50 40 C54 41 56 44 56 48 V52 H12 V14 Z" fill="none" stroke="currentColor" stroke-width="4" stroke-linejoin="round"/><path d="M12 46 H56" stroke="currentColor" stroke-width="4"/>',
    shell: '<path d="M22 10 L32 16 L42 10 L54 18 L50 30 L44 28 V54 H20 V28 L14 30 L10 18 Z" fill="none" stroke="currentColor" stroke-width="4" stroke-linejoin="round"/><path d="M32 16 V54" stroke="currentColor" stroke-width="3"/>',
    lamp: '<circle cx="32" cy="30" r="12" fill="none" stroke="currentColor" stroke-width="4"/><path d="M12 30 H4 M60 30 H52 M32 10 V4 M17 15 L12 10 M47 15 L52 10 M26 46 H38 V54 H26 Z" stroke="currentColor" stroke-width="4" fill="none"/>',
    compass: '<circle cx="32" cy="32" r="24" fill="none" stroke="currentColor" stroke-width="4"/><path d="M40 20 L35 35 L24 44 L29 29 Z" fill="currentColor"/>'
  };

  var CATALOG = [
    { id: 'SKU-TENT-2P', name: 'Basecamp 2 Tent', category: 'Shelter', price: 34900, art: 'tent', color: 'linear-gradient(150deg,#14532d,#22c55e)', text: 'Two-person, three-season, 1.9 kg. Pitches in four minutes, even in wind.' },
    { id: 'SKU-PACK-45', name: 'Ridgeline 45 Pack', category: 'Packs', price: 18900, art: 'pack', color: 'linear-gradient(150deg,#1e3a8a,#0ea5e9)', text: 'Forty-five litres, adjustable back, hip-belt pockets you can reach.' },
    { id: 'SKU-BOOT-MID', name: 'Scree Mid Boots', category: 'Footwear', price: 15950, art: 'boot', color: 'linear-gradient(150deg,#7c2d12,#f97316)', text: 'Waterproof, grippy, broken in out of the box.' },
    { id: 'SKU-SHELL-3L', name: 'Storm 3L Shell', category: 'Clothing', price: 27500, art: 'shell', color: 'linear-gradient(150deg,#4c1d95,#a855f7)', text: 'Three-layer membrane with pit zips for the climb.' },
    { id: 'SKU-LAMP-400', name: 'Nightfall 400 Headlamp', category: 'Electronics', price: 4999, art: 'lamp', color: 'linear-gradient(150deg,#713f12,#eab308)', text: '400 lumens, red mode, USB-C. Twelve hours on medium.' },
    { id: 'SKU-COMPASS', name: 'True North Compass', category: 'Navigation', price: 3450, art: 'compass', color: 'linear-gradient(150deg,#0f172a,#475569)', text: 'Baseplate compass with declination adjustment and clinometer.' }
  ];

  var cart = [];

  function money(cents) {
    return '$' + (cents / 100).toFixed(2);
  }

  function decimal(cents) {
    return Math.round(cents) / 100;
  }

  function find(id) {
    for (var i = 0; i < CATALOG.length; i++) {
      if (CATALOG[i].id === id) {
        return CATALOG[i];
      }
    }
    return null;
  }

  function track(name, data) {
    window.evothesis.track(name, data);
  }

  function renderCatalog() {
    var grid = document.getElementById('products');
    grid.innerHTML = CATALOG.map(function (p) {
      return '<article class="card product" data-product-id="' + p.id + '">' +
        '<div class="art" style="background:' + p.color + '"><svg viewBox="0 0 64 64" aria-hidden="true">' + ART[p.art] + '</svg></div>' +
        '<div class="body"><span class="tag">' + p.category + '</span><h3>' + p.name + '</h3><p>' + p.text + '</p>' +
        '<div class="row"><span class="price">' + money(p.price) + '</span>' +
        '<button class="btn btn-primary btn-small add-to-cart" type="button" data-product-id="' + p.id + '" id="add-' + p.id + '">Add to cart</button></div>' +
        '</div></article>';
    }).join('');
    grid.addEventListener('click', function (e) {
      var button = e.target.closest('.add-to-cart');
      if (button) {
        add(button.getAttribute('data-product-id'));
      }
    });
  }

  function add(id) {
    var product = find(id);
    var line = cart.filter(function (l) { return l.id === id; })[0];
    if (line) {
      line.quantity += 1;
    } else {
      cart.push({ id: id, quantity: 1 });
    }
    track('add_to_cart', { product_id: id, name: product.name, price: decimal(product.price), currency: CURRENCY, quantity: 1 });
    document.getElementById('confirmation').hidden = true;
    renderCart();
  }

  function remove(id) {
    var line = cart.filter(function (l) { return l.id === id; })[0];
    if (!line) {
      return;
    }
    line.quantity -= 1;
    if (line.quantity === 0) {
      cart = cart.filter(function (l) { return l !== line; });
    }
    var product = find(id);
    track('remove_from_cart', { product_id: id, name: product.name, price: decimal(product.price), currency: CURRENCY, quantity: 1 });
    renderCart();
  }

  function totals() {
    var subtotal = cart.reduce(function (sum, l) { return sum + find(l.id).price * l.quantity; }, 0);
    var shipping = subtotal === 0 || subtotal >= FREE_SHIPPING_CENTS ? 0 : SHIPPING_CENTS;
    return { subtotal: subtotal, shipping: shipping, total: subtotal + shipping };
  }

  function renderCart() {
    var count = cart.reduce(function (n, l) { return n + l.quantity; }, 0);
    var t = totals();
    document.getElementById('cart-count').textContent = count + (count === 1 ? ' item' : ' items');
    document.getElementById('cart-empty').hidden = count > 0;
    document.getElementById('totals').hidden = count === 0;
    document.getElementById('checkout').disabled = count === 0;
    document.getElementById('subtotal').textContent = money(t.subtotal);
    document.getElementById('shipping').textContent = t.shipping ? money(t.shipping) : 'Free';
    document.getElementById('total').textContent = money(t.total);
    document.getElementById('cart-lines').innerHTML = cart.map(function (l) {
      var p = find(l.id);
      return '<li><span class="name">' + p.name + '</span><span>' + money(p.price * l.quantity) + '</span>' +
        '<span class="meta"><button class="qty-btn" type="button" data-remove="' + l.id + '" aria-label="Remove one">&minus;</button>' +
        l.quantity + ' &times; ' + money(p.price) +
        '<button class="qty-btn" type="button" data-add="' + l.id + '" aria-label="Add one">+</button></span></li>';
    }).join('');
  }

  function orderId() {
    var now = new Date();
    var digits = new Uint32Array(1);
    window.crypto.getRandomValues(digits);
    var day = now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
    return 'ORD-' + day + '-' + String(digits[0] % 100000).padStart(5, '0');
  }

  function checkout() {
    if (!cart.length) {
      return;
    }
    var t = totals();
    var items = cart.map(function (l) {
      var p = find(l.id);
      return { product_id: p.id, name: p.name, category: p.category, price: decimal(p.price), quantity: l.quantity };
    });
    track('begin_checkout', { value: decimal(t.total), currency: CURRENCY, item_count: items.length });
    var order = {
      order_id: orderId(),
      value: decimal(t.total),
      currency: CURRENCY,
      shipping: decimal(t.shipping),
      items: items
    };
    track('purchase', order);

    document.getElementById('order-id').textContent = order.order_id;
    document.getElementById('order-value').textContent = money(t.total);
    document.getElementById('confirmation').hidden = false;
    cart = [];
    renderCart();
  }

  function init() {
    renderCatalog();
    renderCart();
    document.getElementById('cart-lines').addEventListener('click', function (e) {
      var minus = e.target.closest('[data-remove]');
      var plus = e.target.closest('[data-add]');
      if (minus) {
        remove(minus.getAttribute('data-remove'));
      } else if (plus) {
        add(plus.getAttribute('data-add'));
      }
    });
    document.getElementById('checkout').addEventListener('click', checkout);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
