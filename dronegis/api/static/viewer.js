// dronegis map viewer: layer list from /layers, EPSG:25832 (View1) and WebMercator views,
// "flown on … (age)" badges, click → WMS GetFeatureInfo (°C on thermal layers), legends.
// OpenLayers and proj4 come from the npm bundle at /static/ol/ol.js (global `dronegisOl`).
(function () {
  'use strict';
  const ol = window.dronegisOl;
  const token = new URLSearchParams(window.location.search).get('token');
  const withToken = (url) => (token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url);
  const state = {layers: [], shown: new Set(), olLayers: new Map(), map: null, lastInfo: null};
  window.dronegisViewer = state;

  // EPSG:25832 = ETRS89 / UTM 32N; View1 is Dataforsyningen's grid (top-left 120000/6500000, 1638.4 m/px at level 0).
  ol.proj4.defs('EPSG:25832', '+proj=utm +zone=32 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs');
  ol.register(ol.proj4);
  const VIEW1_EXTENT = [120000, 5661139.2, 958860.8, 6500000];
  const VIEW1_RESOLUTIONS = Array.from({length: 22}, (_, z) => 1638.4 / 2 ** z);
  ol.getProjection('EPSG:25832').setExtent(VIEW1_EXTENT);

  function flownBadge(layer) {
    const span = document.createElement('span');
    span.className = 'badge ' + (layer.freshness || '');
    if (!layer.capture_start) {
      span.textContent = 'flyvedato ukendt / flight date unknown';
      return span;
    }
    // the day in Copenhagen (the server formats it: a night flight at 00:30 CET is 23:30 UTC the day before)
    const day = (layer.captured_local || layer.capture_start).slice(0, 10);
    const age = layer.age_days == null ? '' : ageText(layer.age_days);
    span.textContent = 'flown on ' + day + (age ? ' (' + age + ')' : '');
    span.title = 'captured ' + (layer.captured_local || layer.capture_start) + '; freshness: ' + (layer.freshness || 'unknown');
    return span;
  }

  function ageText(days) {
    if (days < 1) return 'today';
    if (days < 60) return Math.round(days) + ' days ago';
    if (days < 730) return Math.round(days / 30.4) + ' months ago';
    return (days / 365.25).toFixed(1) + ' years ago';
  }

  function wmsSource(projection) {
    return (layer) => new ol.ImageWMS({
      url: '/wms',
      params: Object.assign({LAYERS: layer.id, FORMAT: 'image/png', TRANSPARENT: 'TRUE', VERSION: '1.3.0'},
        token ? {token: token} : {}),
      projection: projection,
      ratio: 1,
    });
  }

  function makeView(projection) {
    const options = {projection: projection};
    if (projection === 'EPSG:25832') {
      options.resolutions = VIEW1_RESOLUTIONS;
      options.extent = VIEW1_EXTENT;
    }
    return new ol.View(options);
  }

  function fitTo(layers) {
    const view = state.map.getView();
    const boxes = layers.map((l) => l.bounds_wgs84).filter(Boolean);
    if (!boxes.length) {
      view.setCenter(ol.transform([9.93, 56.05], 'EPSG:4326', view.getProjection()));
      view.setZoom(projectionZoom(view));
      return;
    }
    const box = [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])),
      Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))];
    view.fit(ol.transformExtent(box, 'EPSG:4326', view.getProjection()), {padding: [20, 20, 20, 20]});
  }

  function projectionZoom(view) {
    return view.getProjection().getCode() === 'EPSG:25832' ? 8 : 10;
  }

  function rebuildLayers() {
    const projection = state.map.getView().getProjection().getCode();
    const make = wmsSource(projection);
    state.olLayers.forEach((layer) => state.map.removeLayer(layer));
    state.olLayers.clear();
    state.layers.filter((l) => state.shown.has(l.id)).forEach((l) => {
      const olLayer = new ol.ImageLayer({source: make(l)});
      olLayer.set('dronegis', l);
      olLayer.getSource().on('imageloadend', () => { document.body.dataset.loaded = l.id; });
      olLayer.getSource().on('imageloaderror', () => { document.body.dataset.loadError = l.id; });
      state.olLayers.set(l.id, olLayer);
      state.map.addLayer(olLayer);
    });
    renderLegend();
  }

  function renderLegend() {
    const box = document.getElementById('legend');
    box.innerHTML = '';
    const shown = state.layers.filter((l) => state.shown.has(l.id));
    if (!shown.length) {
      box.textContent = 'no layer shown';
      box.className = 'muted';
      return;
    }
    box.className = '';
    shown.forEach((l) => {
      const img = document.createElement('img');
      img.alt = 'legend of ' + l.title;
      img.src = l.links && l.links.legend ? l.links.legend : withToken('/legend/' + l.id + '.png');
      img.onerror = () => { img.replaceWith(document.createTextNode(l.title + ': RGB imagery')); };
      box.appendChild(img);
    });
  }

  function renderList() {
    const list = document.getElementById('layers');
    list.innerHTML = '';
    if (!state.layers.length) {
      list.innerHTML = '<li class="muted">no published layers</li>';
      return;
    }
    state.layers.forEach((l) => {
      const li = document.createElement('li');
      li.dataset.layer = l.id;
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = 'layer-' + l.id;
      box.checked = state.shown.has(l.id);
      box.addEventListener('change', () => {
        if (box.checked) state.shown.add(l.id); else state.shown.delete(l.id);
        rebuildLayers();
        if (box.checked) fitTo([l]);
      });
      const label = document.createElement('label');
      label.htmlFor = box.id;
      label.textContent = ' ' + l.title;
      const meta = document.createElement('span');
      meta.className = 'meta';
      const acc = l.accuracy && l.accuracy.rmse_h_m != null ? ' · RMSE_H ' + l.accuracy.rmse_h_m.toFixed(3) + ' m' : ' · nøjagtighed ikke målt / accuracy not measured';
      meta.textContent = l.kind.replace('_', ' ') + ' · ' + l.access + ' · QA ' + (l.qa_status || 'not run') + acc;
      li.append(box, label, meta, flownBadge(l));
      list.appendChild(li);
    });
  }

  function describe(props) {
    if (props.temperature_c !== undefined) {
      return props.temperature_c == null ? 'no data' : props.temperature_c.toFixed(2) + ' °C';
    }
    if (props.value !== undefined) {
      return props.value == null ? 'no data' : props.value + ' ' + (props.unit || '');
    }
    return (props.values || []).map((v) => (v == null ? 'no data' : v)).join(', ');
  }

  async function featureInfo(event) {
    const view = state.map.getView();
    const box = document.getElementById('info');
    const layers = Array.from(state.olLayers.values()).reverse();
    if (!layers.length) {
      box.textContent = 'show a layer first';
      return;
    }
    box.className = '';
    box.textContent = 'reading…';
    const parts = [];
    for (const layer of layers) {
      const url = layer.getSource().getFeatureInfoUrl(event.coordinate, view.getResolution(), view.getProjection(),
        {INFO_FORMAT: 'application/json'});
      const response = await fetch(url);
      if (!response.ok) continue;
      const doc = await response.json();
      (doc.features || []).forEach((f) => parts.push(f.properties));
    }
    state.lastInfo = parts;
    box.innerHTML = '';
    parts.forEach((p) => {
      const value = document.createElement('div');
      value.className = 'value';
      value.dataset.layer = p.layer;
      value.textContent = describe(p);
      const table = document.createElement('table');
      [['layer', p.title], ['captured', p.captured_local || 'unknown'], ['QA', p.qa_status || 'not run']].forEach(([k, v]) => {
        const row = table.insertRow();
        row.insertCell().outerHTML = '<th>' + k + '</th>';
        row.insertCell().textContent = v;
      });
      box.append(value, table);
    });
    if (!parts.length) box.textContent = 'no value here';
    document.body.dataset.info = String(Date.now());
  }

  async function init() {
    state.map = new ol.Map({
      target: 'map',
      view: makeView('EPSG:25832'),
      controls: [new ol.ScaleLine(), new ol.MousePosition({coordinateFormat: ol.createStringXY(1)})],
    });
    state.map.on('singleclick', featureInfo);
    document.getElementById('projection').addEventListener('change', (event) => {
      // keep what the user sees: the visible extent, carried over through WGS 84
      const old = state.map.getView();
      const seen = ol.transformExtent(old.calculateExtent(state.map.getSize()), old.getProjection(), 'EPSG:4326');
      const view = makeView(event.target.value);
      state.map.setView(view);
      view.fit(ol.transformExtent(seen, 'EPSG:4326', view.getProjection()));
      rebuildLayers();
    });
    try {
      const response = await fetch(withToken('/layers'));
      state.layers = response.ok ? await response.json() : [];
    } catch (err) {
      state.layers = [];
    }
    if (state.layers.length) state.shown.add(state.layers[0].id);
    renderList();
    rebuildLayers();
    fitTo(state.layers.filter((l) => state.shown.has(l.id)));
    document.body.dataset.ready = '1';
  }

  init();
})();
