// picseek's search page: reads ?q= from the URL, asks /api/search, shows a
// grid of thumbnails, opens one in a dialog.  Plain DOM, no dependencies;
// nothing is built with innerHTML, so no text from a result can become markup.
'use strict';

(function () {
  const K = 48;
  const $ = (id) => document.getElementById(id);
  const form = $('search-form'), input = $('q'), grid = $('grid'), status = $('status');
  const banner = $('banner'), bannerText = $('banner-text');
  const empty = $('empty'), noresults = $('noresults'), error = $('error'), errorText = $('error-text');
  const viewer = $('viewer'), viewerImg = $('viewer-img'), viewerTitle = $('viewer-title');
  const viewerScore = $('viewer-score'), viewerOpen = $('viewer-open');
  const prevBtn = $('viewer-prev'), nextBtn = $('viewer-next'), viewerWhy = $('viewer-why');
  const WHY_K = 64;       // reasons asked for (all); one per query word is shown

  let current = null;     // AbortController of the search in flight
  let shown = [];         // results that can be opened (not restricted)
  let openIndex = -1;
  let lastQuery = '';
  let opener = null;      // the tile that opened the viewer, to give focus back
  let whyCtl = null;      // AbortController of the explanation in flight

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function baseName(path) {
    if (!path) return '';
    const i = path.lastIndexOf('/');
    return i >= 0 ? path.slice(i + 1) : path;
  }

  function fmtScore(s) {
    return typeof s === 'number' && isFinite(s) ? s.toFixed(2) : '';
  }

  function queryFromUrl() {
    return new URLSearchParams(location.search).get('q') || '';
  }

  // Show exactly one of: the starting hint, "no results", the error, the grid.
  function setView(which) {
    empty.hidden = which !== 'empty';
    noresults.hidden = which !== 'none';
    error.hidden = which !== 'error';
    grid.hidden = which !== 'grid';
    if (which !== 'blocked' && which !== 'grid') banner.hidden = true;
  }

  function reset() {
    if (current) current.abort();
    current = null;
    grid.replaceChildren();
    shown = [];
    status.textContent = '';
    banner.hidden = true;
    document.title = 'picseek';
    setView('empty');
  }

  function lockIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', 'M12 2a5 5 0 0 0-5 5v3H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-8a2 2 0 0 0-2-2h-1V7a5 5 0 0 0-5-5zm-3 8V7a3 3 0 0 1 6 0v3H9z');
    svg.appendChild(p);
    return svg;
  }

  function tile(r) {
    const li = el('li', 'tile');
    li.dataset.id = String(r.id);
    if (r.restricted) {
      li.classList.add('masked');
      const m = el('div', 'mask');
      m.appendChild(lockIcon());
      m.appendChild(el('p', null, r.notice || 'This image is unavailable.'));
      li.appendChild(m);
      return li;
    }
    const index = shown.length;
    shown.push(r);
    const name = baseName(r.path);
    const b = el('button', 'tile-btn');
    b.type = 'button';
    b.setAttribute('aria-label', `Open ${name || 'photo ' + r.id}, score ${fmtScore(r.score)}`);
    const img = el('img');
    img.alt = '';
    img.loading = 'lazy';
    img.decoding = 'async';
    img.src = `/api/thumb/${encodeURIComponent(r.id)}`;
    img.addEventListener('error', () => {
      img.replaceWith(el('span', 'broken', 'Thumbnail unavailable'));
    }, { once: true });
    b.appendChild(img);
    b.appendChild(el('span', 'score', fmtScore(r.score)));
    b.addEventListener('click', () => openViewer(index, b));
    li.appendChild(b);
    return li;
  }

  function render(data, q) {
    grid.replaceChildren();
    shown = [];
    if (data.blocked) {
      bannerText.textContent = data.disclaimer || 'This search cannot be shown.';
      banner.hidden = false;
      status.textContent = '';
      setView('blocked');
      return;
    }
    banner.hidden = true;
    const results = Array.isArray(data.results) ? data.results : [];
    if (results.length === 0) {
      status.textContent = '';
      setView('none');
      return;
    }
    const frag = document.createDocumentFragment();
    for (const r of results) frag.appendChild(tile(r));
    grid.appendChild(frag);
    const n = results.length;
    status.textContent = `${n} photo${n === 1 ? '' : 's'} for \u201c${q}\u201d`;
    setView('grid');
  }

  function showError(msg) {
    grid.replaceChildren();
    shown = [];
    status.textContent = '';
    errorText.textContent = msg;
    setView('error');
  }

  async function search(q) {
    lastQuery = q;
    if (current) current.abort();
    const ctl = new AbortController();
    current = ctl;
    document.title = `${q} \u2014 picseek`;
    status.textContent = 'Searching\u2026';
    grid.setAttribute('aria-busy', 'true');
    try {
      const url = '/api/search?' + new URLSearchParams({ q, k: String(K) });
      const res = await fetch(url, { signal: ctl.signal, headers: { Accept: 'application/json' } });
      let data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      if (ctl !== current) return;
      if (!res.ok || !data) {
        const why = data && data.error ? data.error : `the server answered ${res.status} ${res.statusText}`;
        showError(why);
        return;
      }
      render(data, q);
    } catch (e) {
      if (e.name === 'AbortError') return;
      showError('picseek could not be reached. Is the server still running?');
    } finally {
      if (ctl === current) {
        grid.removeAttribute('aria-busy');
        current = null;
      }
    }
  }

  // A new search from the box: a new history entry, so Back returns to the
  // previous one and the URL can be bookmarked or shared.
  function submit(q) {
    q = q.trim();
    if (!q) { input.focus(); return; }
    const url = '?' + new URLSearchParams({ q });
    if (queryFromUrl() !== q) history.pushState({ q }, '', url);
    search(q);
  }

  function fromUrl() {
    const q = queryFromUrl().trim();
    input.value = q;
    if (viewer.open) viewer.close();
    if (q) search(q); else reset();
  }

  // ---- viewer ----
  function pct(x) {
    return typeof x === 'number' && isFinite(x) ? `${Math.round(x * 100)}%` : '';
  }

  // One reason, e.g. "dog (98%)", "black (42% of the foreground)" or "lawn
  // mower (12%, for “grass”)": what the photo shows, how much, and the
  // query word it answers.
  function reason(c) {
    const out = el('span', 'why-item');
    out.append(el('b', null, c.label));
    let how;
    if (c.source === 'color') how = `${pct(c.share)} of the ${c.region === 'foreground' ? 'foreground' : 'picture'}`;
    else if (c.source === 'voc') how = `${pct(c.area)} of the picture`;
    else how = pct(c.prob);
    const word = c.word && c.word !== c.label ? `, for “${c.word}”` : '';
    out.append(` (${how}${word})`);
    return out;
  }

  // Why the photo matches the query: the zero-shot score's main reasons.
  async function explain(r, q) {
    if (whyCtl) whyCtl.abort();
    const ctl = new AbortController();
    whyCtl = ctl;
    viewerWhy.replaceChildren();
    try {
      const url = `/api/explain/${encodeURIComponent(r.id)}?` + new URLSearchParams({ q, k: String(WHY_K) });
      const res = await fetch(url, { signal: ctl.signal, headers: { Accept: 'application/json' } });
      const data = res.ok ? await res.json() : null;
      if (ctl !== whyCtl || !data || data.blocked || !Array.isArray(data.contributors)) return;
      // The main reasons: the strongest of each query word, none under a
      // tenth of the best (the server marks them; src/score/zeroshot.h).
      const items = data.contributors.filter((c) => c && c.main === true && typeof c.label === 'string');
      if (!items.length) {
        viewerWhy.textContent = 'No reason found: none of the query\'s words was recognised in this photo.';
        return;
      }
      viewerWhy.append('Matched: ');
      items.forEach((c, i) => {
        if (i) viewerWhy.append(' · ');
        viewerWhy.append(reason(c));
      });
    } catch (e) {
      // No explanation is not an error worth a message: the photo is shown.
    }
  }

  function showPhoto(i) {
    const r = shown[i];
    if (!r) return;
    openIndex = i;
    viewerImg.src = `/api/photo/${encodeURIComponent(r.id)}`;
    const name = baseName(r.path) || `photo ${r.id}`;
    viewerImg.alt = name;
    viewerTitle.textContent = name;
    viewerScore.textContent = `score ${fmtScore(r.score)}`;
    viewerOpen.href = viewerImg.src;
    prevBtn.hidden = i <= 0;
    nextBtn.hidden = i >= shown.length - 1;
    explain(r, lastQuery);
  }

  function openViewer(i, from) {
    opener = from;
    showPhoto(i);
    if (!viewer.open) viewer.showModal();
  }

  prevBtn.addEventListener('click', () => showPhoto(openIndex - 1));
  nextBtn.addEventListener('click', () => showPhoto(openIndex + 1));
  $('viewer-close').addEventListener('click', () => viewer.close());
  viewer.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft' && openIndex > 0) { showPhoto(openIndex - 1); e.preventDefault(); }
    if (e.key === 'ArrowRight' && openIndex < shown.length - 1) { showPhoto(openIndex + 1); e.preventDefault(); }
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  viewer.addEventListener('click', (e) => {
    if (e.target === viewer) viewer.close();
  });
  viewer.addEventListener('close', () => {
    viewerImg.removeAttribute('src');
    if (whyCtl) whyCtl.abort();
    whyCtl = null;
    viewerWhy.replaceChildren();
    // Give focus back to the tile of the photo last shown.
    const btns = grid.querySelectorAll('.tile-btn');
    const target = btns[openIndex] || opener;
    if (target && document.contains(target)) target.focus();
  });

  // ---- wiring ----
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit(input.value);
  });
  for (const b of document.querySelectorAll('.example')) {
    b.addEventListener('click', () => { input.value = b.textContent; submit(b.textContent); });
  }
  $('retry').addEventListener('click', () => { if (lastQuery) search(lastQuery); });
  $('home').addEventListener('click', (e) => {
    e.preventDefault();
    if (location.search) history.pushState({}, '', location.pathname);
    input.value = '';
    reset();
    input.focus();
  });
  // "/" focuses the search box, as on many sites.
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement !== input && !viewer.open) {
      e.preventDefault();
      input.focus();
      input.select();
    }
  });
  window.addEventListener('popstate', fromUrl);

  fromUrl();
  if (!input.value) input.focus();
})();
