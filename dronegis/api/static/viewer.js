// dronegis map viewer for case handlers: layers grouped by flight and kind with titles people can
// tell apart, trust at a glance (date, freshness, accuracy, datum, QA with reasons, approval), click
// readings in a panel beside the map, a basemap (configured WMTS/WMS, else offline: municipality,
// postal districts, footprints), search (coordinates, layers, addresses), a time slider across
// flights of one area, print to PDF and shareable URLs. Texts come from the server's message
// catalogue (Danish by default, ?lang=en). OpenLayers: the npm bundle /static/ol/ol.js (`dronegisOl`).
(function () {
  'use strict';
  const ol = window.dronegisOl;
  const config = JSON.parse(document.getElementById('viewer-config').textContent);
  const T = config.texts;
  const lang = config.lang;
  const $ = (id) => document.getElementById(id);
  const t = (key, params) => (T[key] || key).replace(/\{(\w+)\}/g, (m, k) => (params && k in params ? params[k] : m));
  const query = new URLSearchParams(window.location.search);
  const token = query.get('token');
  const withParam = (url, key, value) => url + (url.includes('?') ? '&' : '?') + key + '=' + encodeURIComponent(value);
  const withToken = (url) => (token ? withParam(url, 'token', token) : url);
  const state = {
    layers: [], byId: new Map(), shown: new Set(), olLayers: new Map(), selected: null, map: null,
    lastInfo: null, basemap: null, basemapLayer: null, offline: null, marker: null, time: null,
    collections: new Set(),  // published vector layers the caller may see (OGC API collection ids)
  };
  window.dronegisViewer = state;

  // EPSG:25832 = ETRS89 / UTM 32N; View1 is Dataforsyningen's grid (top-left 120000/6500000, 1638.4 m/px at level 0).
  ol.proj4.defs('EPSG:25832', '+proj=utm +zone=32 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs');
  ol.register(ol.proj4);
  const VIEW1_EXTENT = [120000, 5661139.2, 958860.8, 6500000];
  const VIEW1_RESOLUTIONS = Array.from({length: 22}, (_, z) => 1638.4 / 2 ** z);
  ol.getProjection('EPSG:25832').setExtent(VIEW1_EXTENT);

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (key === 'text') node.textContent = value;
      else if (key === 'className') node.className = value;
      else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role' || key === 'for' || key === 'lang') node.setAttribute(key, value);
      else node[key] = value;
    });
    (children || []).forEach((child) => child && node.append(child));
    return node;
  }

  // ---------------------------------------------------------------- views and projections
  function makeView(projection) {
    const options = {projection: projection};
    if (projection === 'EPSG:25832') {
      options.resolutions = VIEW1_RESOLUTIONS;
      options.extent = VIEW1_EXTENT;
    }
    return new ol.View(options);
  }

  function projectionCode() {
    return state.map.getView().getProjection().getCode();
  }

  function fitTo(layers) {
    const view = state.map.getView();
    const boxes = layers.map((l) => l.bounds_wgs84).filter(Boolean);
    if (!boxes.length) {
      view.setCenter(ol.transform([9.93, 56.05], 'EPSG:4326', view.getProjection()));
      view.setZoom(projectionCode() === 'EPSG:25832' ? 8 : 10);
      return;
    }
    const box = [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1])),
      Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))];
    view.fit(ol.transformExtent(box, 'EPSG:4326', view.getProjection()), {padding: [30, 30, 30, 30]});
  }

  // ---------------------------------------------------------------- basemaps
  const OFFLINE_STYLES = {
    municipality: new ol.Style({fill: new ol.Fill({color: '#f3f1e8'}), stroke: new ol.Stroke({color: '#6b5b3e', width: 2})}),
    footprint: new ol.Style({stroke: new ol.Stroke({color: '#1f5f99', width: 1.5, lineDash: [6, 4]}), fill: new ol.Fill({color: 'rgba(31,95,153,0.06)'})}),
  };

  function offlineStyle(feature, resolution) {
    const kind = feature.get('kind');
    if (kind === 'district') {
      return new ol.Style({
        stroke: new ol.Stroke({color: '#b7ab8c', width: 1}),
        text: resolution < 120 ? new ol.Text({text: feature.get('name'), font: '13px system-ui, sans-serif',
          fill: new ol.Fill({color: '#4a4030'}), stroke: new ol.Stroke({color: '#fff', width: 3}), overflow: true}) : undefined,
      });
    }
    return OFFLINE_STYLES[kind] || OFFLINE_STYLES.footprint;
  }

  function offlineLayer() {
    const source = new ol.VectorSource({url: withToken('/basemap.geojson?lang=' + lang), format: new ol.GeoJSON()});
    source.on('featuresloadend', () => { document.body.dataset.basemap = 'offline'; });
    const layer = new ol.VectorLayer({source: source, style: offlineStyle, zIndex: -1});
    layer.set('name', 'offline');
    return layer;
  }

  async function configuredLayer(basemap) {
    const auth = (url) => (basemap.token ? withParam(url, 'token', basemap.token) : url);
    if (basemap.kind === 'wms') {
      return new ol.ImageLayer({zIndex: -2, source: new ol.ImageWMS({
        url: auth(basemap.url), params: {LAYERS: basemap.layer, FORMAT: basemap.format, VERSION: '1.3.0'},
        attributions: basemap.attribution || undefined, ratio: 1})});
    }
    const capsUrl = auth(withParam(withParam(basemap.url, 'SERVICE', 'WMTS'), 'REQUEST', 'GetCapabilities'));
    const response = await fetch(capsUrl);
    if (!response.ok) throw new Error('capabilities HTTP ' + response.status);
    const caps = new ol.WMTSCapabilities().read(await response.text());
    const options = ol.optionsFromCapabilities(caps, {layer: basemap.layer, matrixSet: basemap.matrixSet});
    if (!options) throw new Error('no layer ' + basemap.layer + ' in matrix set ' + basemap.matrixSet);
    if (basemap.token) options.urls = options.urls.map((url) => withParam(url, 'token', basemap.token));
    options.attributions = basemap.attribution || undefined;
    return new ol.TileLayer({source: new ol.WMTS(options), zIndex: -2});
  }

  async function basemapFailed(reason) {
    document.body.dataset.basemapError = String(reason);
    $('basemap').value = 'offline';
    await setBasemap('offline');
    $('basemap-status').textContent = t('basemap_failed');
  }

  async function setBasemap(name) {
    if (state.basemapLayer) state.map.removeLayer(state.basemapLayer);
    state.basemapLayer = null;
    state.basemap = name;
    if (!state.offline) {
      state.offline = offlineLayer();
      state.map.addLayer(state.offline);
    }
    state.offline.setVisible(true);
    if (name === 'configured' && config.basemap) {
      try {
        const layer = await configuredLayer(config.basemap);
        let errors = 0;
        const source = layer.getSource();
        source.on(source.getTileUrlFunction ? 'tileloaderror' : 'imageloaderror', () => {
          errors += 1;
          if (errors === 3) basemapFailed('tiles');
        });
        source.on(source.getTileUrlFunction ? 'tileloadend' : 'imageloadend', () => { document.body.dataset.basemap = 'configured'; });
        state.basemapLayer = layer;
        state.map.addLayer(layer);
        state.offline.setVisible(false);
        $('basemap-status').textContent = config.basemap.attribution || '';
      } catch (err) {
        await basemapFailed(err.message);
      }
    } else {
      $('basemap-status').textContent = config.offlineSource;
    }
    updateUrl();
  }

  function setupBasemapChooser() {
    const select = $('basemap');
    if (config.basemap) select.append(el('option', {value: 'configured', text: config.basemap.title}));
    select.append(el('option', {value: 'offline', text: t('basemap_offline')}));
    select.addEventListener('change', () => setBasemap(select.value));
  }

  // ---------------------------------------------------------------- layers on the map
  function wmsSource(layer) {
    return new ol.ImageWMS({
      url: '/wms',
      params: Object.assign({LAYERS: layer.id, FORMAT: 'image/png', TRANSPARENT: 'TRUE', VERSION: '1.3.0'},
        token ? {token: token} : {}),
      projection: projectionCode(),
      ratio: 1,
    });
  }

  function rebuildLayers() {
    state.olLayers.forEach((layer) => state.map.removeLayer(layer));
    state.olLayers.clear();
    state.layers.filter((l) => state.shown.has(l.id)).forEach((l, index) => {
      const olLayer = new ol.ImageLayer({source: wmsSource(l), zIndex: index});
      olLayer.set('dronegis', l);
      olLayer.getSource().on('imageloadend', () => { document.body.dataset.loaded = l.id; });
      olLayer.getSource().on('imageloaderror', () => { document.body.dataset.loadError = l.id; });
      state.olLayers.set(l.id, olLayer);
      state.map.addLayer(olLayer);
    });
    renderLegend();
    renderTrust();
    updateTime();
    updateUrl();
  }

  function showLayer(id, on, select) {
    if (on) state.shown.add(id); else state.shown.delete(id);
    const box = $('layer-' + id);
    if (box) box.checked = on;
    if (on && select !== false) state.selected = id;
    if (!on && state.selected === id) state.selected = Array.from(state.shown).pop() || null;
    rebuildLayers();
  }

  // ---------------------------------------------------------------- the layer list
  function badge(className, text, label) {
    return el('span', {className: 'badge ' + className, text: text, title: label || text});
  }

  function layerItem(l) {
    const d = l.display;
    const li = el('li', {'data-layer': l.id, 'data-search': [d.title, d.place, d.kind, d.flown, l.flight, l.id].join(' ').toLowerCase()});
    const box = el('input', {type: 'checkbox', id: 'layer-' + l.id, checked: state.shown.has(l.id)});
    box.addEventListener('change', () => {
      showLayer(l.id, box.checked);
      if (box.checked) fitTo([l]);
    });
    const label = el('label', {for: 'layer-' + l.id, text: d.title, className: 'title'});
    const about = el('button', {type: 'button', className: 'about', text: t('about'), 'aria-label': t('about') + ': ' + d.title});
    about.addEventListener('click', () => { state.selected = l.id; renderTrust(); updateTime(); updateUrl(); $('trust-box').scrollIntoView({block: 'nearest'}); });
    const badges = el('div', {className: 'badges'}, [
      badge('qa ' + d.qa.status, d.qa.label, t('qa') + ': ' + d.qa.label),
      badge('fresh ' + d.freshness_status, d.freshness, t('freshness') + ': ' + d.freshness),
      // an unmeasured accuracy is already the QA badge's words
      d.qa.status === 'unmeasured' ? null : badge('acc ' + (d.accuracy.known ? 'known' : 'unknown'), d.accuracy.text, t('accuracy') + ': ' + d.accuracy.text),
    ]);
    li.append(el('div', {className: 'row'}, [box, label]), badges, about);
    return li;
  }

  function renderList() {
    const list = $('layers');
    list.innerHTML = '';
    if (!state.layers.length) {
      list.append(el('p', {className: 'muted', text: t('no_layers')}));
      return;
    }
    const groups = new Map();
    state.layers.forEach((l) => {
      if (!groups.has(l.flight)) groups.set(l.flight, {title: l.display.group, kinds: new Map()});
      const kinds = groups.get(l.flight).kinds;
      if (!kinds.has(l.display.kind_group)) kinds.set(l.display.kind_group, []);
      kinds.get(l.display.kind_group).push(l);
    });
    groups.forEach((group, flight) => {
      const section = el('section', {className: 'group', 'data-flight': flight, 'aria-label': group.title});
      section.append(el('h3', {text: group.title}), el('p', {className: 'hint', text: t('flight', {flight: flight})}));
      group.kinds.forEach((layers, kind) => {
        const details = el('details', {open: layers.length <= 3 || layers.some((l) => state.shown.has(l.id))});
        details.append(el('summary', {text: kind + ' (' + layers.length + ')'}));
        details.append(el('ul', {}, layers.map(layerItem)));
        section.append(details);
      });
      list.append(section);
    });
    list.append(el('p', {id: 'no-match', className: 'muted', hidden: true}));
    applyFilter();
  }

  function applyFilter() {
    const words = $('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
    let any = false;
    document.querySelectorAll('#layers li[data-layer]').forEach((li) => {
      const match = words.every((w) => li.dataset.search.includes(w));
      li.hidden = !match;
      any = any || match;
    });
    document.querySelectorAll('#layers details').forEach((details) => {
      const visible = details.querySelectorAll('li[data-layer]:not([hidden])').length;
      details.hidden = visible === 0;
      if (words.length && visible) details.open = true;
    });
    document.querySelectorAll('#layers section.group').forEach((section) => {
      section.hidden = !section.querySelector('li[data-layer]:not([hidden])');
    });
    const none = $('no-match');
    if (none) {
      none.hidden = any;
      none.textContent = any ? '' : t('no_match', {q: $('filter').value});
    }
  }

  // ---------------------------------------------------------------- trust, legend
  function row(list, term, value, className) {
    if (value == null || value === '') return;
    list.append(el('dt', {text: term}), el('dd', {className: className || ''}, [typeof value === 'string' ? document.createTextNode(value) : value]));
  }

  function renderTrust() {
    const box = $('trust');
    box.innerHTML = '';
    const l = state.byId.get(state.selected);
    if (!l) {
      box.append(el('p', {className: 'muted', text: t('no_layer_shown')}));
      return;
    }
    const d = l.display;
    box.dataset.layer = l.id;
    box.append(el('h3', {text: d.title}));
    const list = el('dl');
    row(list, t('place'), d.place ? d.place + (d.place_source ? ' (' + d.place_source + ')' : '') : null);
    row(list, t('flown'), d.flown);
    row(list, t('age'), d.age);
    row(list, t('freshness'), d.freshness, 'fresh ' + d.freshness_status);
    const acc = el('span', {text: d.accuracy.text});
    if (d.accuracy.caution) acc.append(el('br'), el('small', {text: d.accuracy.caution}));
    row(list, t('accuracy'), acc, 'acc ' + (d.accuracy.known ? 'known' : 'unknown'));
    row(list, t('datum'), d.datum);
    const qa = el('span', {}, [el('span', {className: 'badge qa ' + d.qa.status, text: d.qa.label})]);
    if (d.qa.reasons.length) qa.append(el('ul', {className: 'reasons', 'aria-label': t('reasons')}, d.qa.reasons.map((r) => el('li', {text: r}))));
    row(list, t('qa'), qa);
    row(list, t('approval'), d.approval);
    row(list, t('gsd'), l.gsd_m != null ? (l.gsd_m * 100).toFixed(1).replace('.', lang === 'da' ? ',' : '.') + ' cm' : null);
    row(list, t('access'), l.access === 'public' ? t('access_public') : t('access_internal'));
    box.append(list);
    const links = el('p', {className: 'links'}, [el('a', {href: d.guide, text: t('guide'), id: 'guide-' + l.id})]);
    if (token) links.append(' · ', el('a', {href: withToken('/flights/' + encodeURIComponent(l.flight) + '/qa?lang=' + lang), text: t('qa_report')}));
    box.append(links);
    updatePrint();
  }

  function renderLegend() {
    const box = $('legend');
    box.innerHTML = '';
    const shown = state.layers.filter((l) => state.shown.has(l.id));
    if (!shown.length) {
      box.append(el('p', {className: 'muted', text: t('no_layer_shown')}));
      return;
    }
    shown.forEach((l) => {
      const figure = el('figure', {'data-layer': l.id});
      figure.append(el('figcaption', {text: l.display.title}));
      if (l.unit == null && l.kind !== 'thermal_mosaic' && l.kind !== 'thermal_frame' && l.kind !== 'dsm' && l.kind !== 'dtm') {
        figure.append(el('p', {text: t('rgb_legend')}));
      } else {
        const img = el('img', {alt: t('legend_of', {title: l.display.title}), src: withToken('/legend/' + l.id + '.png?lang=' + lang)});
        img.onerror = () => img.replaceWith(el('p', {text: t('rgb_legend')}));
        figure.append(img);
      }
      box.append(figure);
    });
  }

  // ---------------------------------------------------------------- click readings
  function number(value, digits) {
    return value.toFixed(digits).replace('.', lang === 'da' ? ',' : '.');
  }

  function describe(props) {
    if (props.temperature_c !== undefined) {
      return [t('temperature'), props.temperature_c == null ? t('no_data') : number(props.temperature_c, 1) + ' °C'];
    }
    if (props.value !== undefined) {
      return [t('value'), props.value == null ? t('no_data') : number(props.value, 2) + ' ' + (props.unit || '')];
    }
    if (props.values !== undefined) {
      return [t('bands'), props.values.map((v) => (v == null ? t('no_data') : String(v))).join(', ')];
    }
    return null;  // a vector feature: its attributes say it
  }

  // The buildings layer of each shown flight (publish names it <flight>-buildings), when the caller sees it.
  function buildingLayers(layers) {
    const flights = new Set(layers.map((layer) => layer.get('dronegis').flight));
    return Array.from(flights)
      .map((flight) => (flight + '-buildings').toLowerCase().replace(/[^a-z0-9_-]+/g, '-'))
      .filter((id) => state.collections.has(id));
  }

  async function featureInfo(coordinate) {
    const view = state.map.getView();
    const box = $('info');
    const layers = Array.from(state.olLayers.values()).reverse();
    box.innerHTML = '';
    if (!layers.length) {
      box.append(el('p', {text: t('info_show_first')}));
      return;
    }
    box.append(el('p', {className: 'muted', text: t('info_reading')}));
    const parts = [];
    for (const layer of layers) {
      const url = layer.getSource().getFeatureInfoUrl(coordinate, view.getResolution(), view.getProjection(),
        {INFO_FORMAT: 'application/json'});
      const response = await fetch(url);
      if (!response.ok) continue;
      const doc = await response.json();
      (doc.features || []).forEach((f) => parts.push(f.properties));
    }
    for (const id of buildingLayers(layers)) {  // the shown flights' buildings: figures and card link
      const url = wmsSource({id: id}).getFeatureInfoUrl(coordinate, view.getResolution(), view.getProjection(),
        {INFO_FORMAT: 'application/json'});
      const response = await fetch(url);
      if (response.ok) ((await response.json()).features || []).forEach((f) => parts.push(f.properties));
    }
    state.lastInfo = parts;
    box.innerHTML = '';
    const point = ol.transform(coordinate, view.getProjection(), 'EPSG:25832');
    parts.forEach((p) => {
      const l = state.byId.get(p.layer);
      const reading = describe(p);
      const block = el('div', {className: 'reading', 'data-layer': p.layer});
      block.append(el('h3', {text: l ? l.display.title : p.title}));
      if (reading) block.append(el('p', {className: 'what', text: reading[0]}), el('p', {className: 'value', text: reading[1]}));
      if (p.temperature_c !== undefined) block.append(el('p', {className: 'hint', text: t('apparent')}));
      if (p.attributes) {
        const table = el('table', {}, [el('caption', {text: t('attributes')})]);
        Object.entries(p.attributes).forEach(([k, v]) => table.append(el('tr', {}, [el('th', {text: k, scope: 'row'}), el('td', {text: String(v)})])));
        block.append(table);
      }
      if (p.card_url) block.append(el('p', {}, [el('a', {href: withToken(p.card_url), text: t('card')})]));
      if (l) block.append(el('p', {className: 'hint'}, [el('a', {href: l.display.guide, text: t('guide')})]));
      box.append(block);
    });
    if (!parts.length) box.append(el('p', {text: t('info_none')}));
    box.append(el('p', {className: 'hint', text: t('point') + ': ' + Math.round(point[0]) + ' ' + Math.round(point[1])}));
    if (window.matchMedia('(max-width: 900px)').matches) box.scrollIntoView({block: 'nearest'});  // stacked layout
    document.body.dataset.info = String(Date.now());
  }

  // ---------------------------------------------------------------- time slider (flights over one area)
  function areaFlights(area) {
    const flights = new Map();
    state.layers.filter((l) => l.display.area === area).forEach((l) => {
      const key = l.flight;
      const when = l.capture_start || '';
      if (!flights.has(key) || when < flights.get(key).when) flights.set(key, {flight: key, when: when, day: l.display.flown_day, label: l.display.group});
    });
    return Array.from(flights.values()).sort((a, b) => (a.when < b.when ? -1 : 1));
  }

  function updateTime() {
    const l = state.byId.get(state.selected);
    const box = $('time-box');
    const flights = l ? areaFlights(l.display.area) : [];
    state.time = flights.length > 1 ? {area: l.display.area, flights: flights} : null;
    box.hidden = !state.time;
    if (!state.time) return;
    const slider = $('time');
    slider.max = String(flights.length - 1);
    slider.value = String(Math.max(0, flights.findIndex((f) => f.flight === l.flight)));
    const current = flights[Number(slider.value)];
    slider.setAttribute('aria-valuetext', current.label);
    $('time-value').textContent = t('time_value', {day: current.label});
  }

  function chooseFlight(index) {
    if (!state.time) return;
    const target = state.time.flights[index];
    const inArea = state.layers.filter((l) => l.display.area === state.time.area);
    const shownKinds = new Set(inArea.filter((l) => state.shown.has(l.id)).map((l) => l.kind));
    if (!shownKinds.size) shownKinds.add(state.byId.get(state.selected).kind);
    inArea.forEach((l) => state.shown.delete(l.id));
    const chosen = inArea.filter((l) => l.flight === target.flight && shownKinds.has(l.kind));
    chosen.forEach((l) => state.shown.add(l.id));
    if (chosen.length) state.selected = chosen[0].id;
    document.querySelectorAll('#layers input[type=checkbox]').forEach((box) => { box.checked = state.shown.has(box.id.slice(6)); });
    rebuildLayers();
  }

  // ---------------------------------------------------------------- print and share
  function extent25832() {
    const view = state.map.getView();
    const extent = view.calculateExtent(state.map.getSize());
    return projectionCode() === 'EPSG:25832' ? extent : ol.transformExtent(extent, projectionCode(), 'EPSG:25832');
  }

  function updatePrint() {
    const link = $('print');
    if (!state.selected || !state.map || !state.map.getSize()) {
      link.setAttribute('aria-disabled', 'true');
      link.removeAttribute('href');
      link.title = t('print_none');
      return;
    }
    const box = extent25832().map((v) => v.toFixed(2)).join(',');
    let url = '/print.pdf?layer=' + encodeURIComponent(state.selected) + '&bbox=' + box + '&crs=EPSG:25832&lang=' + lang +
      '&orientation=' + $('print-orientation').value;
    const title = $('print-title').value.trim();
    if (title) url = withParam(url, 'title', title);
    link.href = withToken(url);
    link.setAttribute('download', state.selected + '.pdf');
    link.removeAttribute('aria-disabled');
    link.title = '';
  }

  function shareUrl() {
    const params = new URLSearchParams();
    if (lang !== 'da') params.set('lang', lang);
    if (state.shown.size) params.set('layers', Array.from(state.shown).join(','));
    if (state.selected) params.set('sel', state.selected);
    if (state.map && state.map.getSize()) {
      params.set('bbox', state.map.getView().calculateExtent(state.map.getSize()).map((v) => v.toFixed(2)).join(','));
      params.set('proj', projectionCode());
    }
    if (state.time) params.set('time', state.byId.get(state.selected) ? state.byId.get(state.selected).display.flown_day || '' : '');
    if (state.basemap && state.basemap !== (config.basemap ? 'configured' : 'offline')) params.set('basemap', state.basemap);
    return window.location.origin + window.location.pathname + '?' + params.toString();
  }

  function updateUrl() {
    if (!state.map || !state.ready) return;
    const url = shareUrl();
    const local = url.slice(window.location.origin.length) + (token ? '&token=' + encodeURIComponent(token) : '');
    window.history.replaceState(null, '', local);
    $('share-url').value = url;
    updatePrint();
  }

  async function share() {
    const url = shareUrl();
    $('share-url').value = url;
    $('share-url').select();
    try {
      await navigator.clipboard.writeText(url);
      $('share-status').textContent = t('share_copied');
    } catch (err) {
      $('share-status').textContent = t('share_label') + ': ' + url;
    }
  }

  function restore(layers) {
    const wanted = (query.get('layers') || '').split(',').filter((id) => state.byId.has(id));
    wanted.forEach((id) => state.shown.add(id));
    const sel = query.get('sel');
    state.selected = state.byId.has(sel) ? sel : wanted[0] || null;
    const bbox = (query.get('bbox') || '').split(',').map(Number);
    if (bbox.length === 4 && bbox.every(Number.isFinite)) {
      const from = query.get('proj') === 'EPSG:3857' ? 'EPSG:3857' : 'EPSG:25832';
      state.map.getView().fit(from === projectionCode() ? bbox : ol.transformExtent(bbox, from, projectionCode()));
      return true;
    }
    if (wanted.length) fitTo(layers.filter((l) => state.shown.has(l.id)));
    return wanted.length > 0;
  }

  // ---------------------------------------------------------------- search
  function showPoint(east, north, bbox) {
    const view = state.map.getView();
    const coordinate = ol.transform([east, north], 'EPSG:25832', view.getProjection());
    if (!state.marker) {
      state.marker = new ol.VectorLayer({source: new ol.VectorSource(), zIndex: 1000, style: new ol.Style({
        image: new ol.CircleStyle({radius: 8, fill: new ol.Fill({color: 'rgba(200,30,30,0.8)'}), stroke: new ol.Stroke({color: '#fff', width: 2})})})});
      state.map.addLayer(state.marker);
    }
    state.marker.getSource().clear();
    state.marker.getSource().addFeature(new ol.Feature(new ol.Point(coordinate)));
    if (bbox) view.fit(ol.transformExtent(bbox, 'EPSG:25832', view.getProjection()), {padding: [30, 30, 30, 30]});
    else { view.setCenter(coordinate); view.setResolution(projectionCode() === 'EPSG:25832' ? 0.4 : 0.6); }
  }

  async function runSearch(event) {
    event.preventDefault();
    const box = $('search-results');
    const q = $('search-input').value;
    box.innerHTML = '';
    const response = await fetch(withToken('/search?lang=' + lang + '&q=' + encodeURIComponent(q)));
    const doc = await response.json();
    if (!response.ok) {
      box.append(el('p', {className: 'error', role: 'alert', text: doc.message || doc.detail}));
      return;
    }
    doc.messages.forEach((m) => box.append(el('p', {className: 'message', role: 'alert', text: m})));
    if (doc.results.length) {
      box.append(el('h2', {text: t('search_results')}));
      const list = el('ul');
      doc.results.forEach((hit) => {
        const button = el('button', {type: 'button', text: hit.label, 'data-kind': hit.kind});
        button.addEventListener('click', () => {
          if (hit.layer && !state.shown.has(hit.layer)) showLayer(hit.layer, true);
          showPoint(hit.east, hit.north, hit.bbox);
        });
        list.append(el('li', {}, [el('span', {className: 'kind', text: hit.kindLabel + ': '}), button, hit.detail ? ' (' + hit.detail + ')' : '']));
      });
      box.append(list);
      if (doc.results.length === 1) showPoint(doc.results[0].east, doc.results[0].north, doc.results[0].bbox);
    }
    document.body.dataset.searched = String(Date.now());
  }

  // ---------------------------------------------------------------- start
  async function init() {
    state.map = new ol.Map({
      target: 'map',
      view: makeView('EPSG:25832'),
      keyboardEventTarget: $('map'),
      controls: [
        new ol.Zoom({zoomInTipLabel: t('zoom_in'), zoomOutTipLabel: t('zoom_out')}),
        new ol.ScaleLine(),
        new ol.Attribution({collapsible: false}),
        new ol.MousePosition({coordinateFormat: ol.createStringXY(1), className: 'mouse-position'}),
      ],
    });
    state.map.on('singleclick', (event) => featureInfo(event.coordinate));
    state.map.on('moveend', updateUrl);
    $('map').addEventListener('keydown', (event) => {
      if (event.key === 'Enter') featureInfo(state.map.getView().getCenter());
    });
    if (query.get('proj') === 'EPSG:3857') {
      state.map.setView(makeView('EPSG:3857'));
      $('projection').value = 'EPSG:3857';
    }
    $('projection').addEventListener('change', (event) => {
      const old = state.map.getView();
      const seen = ol.transformExtent(old.calculateExtent(state.map.getSize()), old.getProjection(), 'EPSG:4326');
      const view = makeView(event.target.value);
      state.map.setView(view);
      view.fit(ol.transformExtent(seen, 'EPSG:4326', view.getProjection()));
      rebuildLayers();
    });
    $('filter').addEventListener('input', applyFilter);
    $('time').addEventListener('input', (event) => chooseFlight(Number(event.target.value)));
    $('print-orientation').addEventListener('change', updatePrint);
    $('print-title').addEventListener('input', updatePrint);
    $('share').addEventListener('click', share);
    $('search').addEventListener('submit', runSearch);
    setupBasemapChooser();
    try {
      const response = await fetch(withToken('/layers?lang=' + lang));
      state.layers = response.ok ? (await response.json()).filter((l) => l.display) : [];
    } catch (err) {
      state.layers = [];
    }
    state.layers.forEach((l) => state.byId.set(l.id, l));
    try {
      const response = await fetch(withToken('/ogcapi/collections?f=json'));
      if (response.ok) (await response.json()).collections.forEach((c) => state.collections.add(c.id));
    } catch (err) {
      state.collections.clear();
    }
    const restored = restore(state.layers);
    if (!restored && state.layers.length) {
      state.shown.add(state.layers[0].id);
      state.selected = state.layers[0].id;
      fitTo([state.layers[0]]);
    } else if (!restored) {
      fitTo([]);
    }
    renderList();
    rebuildLayers();
    const wanted = query.get('basemap') || (config.basemap ? 'configured' : 'offline');
    $('basemap').value = wanted === 'configured' && config.basemap ? 'configured' : 'offline';
    state.ready = true;
    await setBasemap($('basemap').value);
    const day = query.get('time');
    if (day && state.time) {
      const index = state.time.flights.findIndex((f) => f.day === day);
      if (index >= 0) chooseFlight(index);
    }
    updateUrl();
    document.body.dataset.ready = '1';
  }

  init();
})();
