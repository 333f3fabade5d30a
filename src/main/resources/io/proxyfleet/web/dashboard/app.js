// ProxyFleet dashboard: polls this node's JSON endpoints once a second for the visible tab and redraws it.
'use strict';

const POLL_MILLIS = 1000;
const TABS = ['cluster', 'backends', 'traffic'];
const CHART_WIDTH = 600;
const CHART_HEIGHT = 160;
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') { e.className = v; } else { e.setAttribute(k, v); }
  }
  for (const c of children) { e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c))); }
  return e;
}

function ago(millis, now) {
  if (millis == null) { return 'never'; }
  const s = Math.max(0, Math.round((now - millis) / 1000));
  if (s < 2) { return 'now'; }
  if (s < 120) { return s + ' s ago'; }
  if (s < 7200) { return Math.round(s / 60) + ' min ago'; }
  return Math.round(s / 3600) + ' h ago';
}

function duration(seconds) {
  if (seconds == null) { return '–'; }
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  if (d > 0) { return d + 'd ' + h + 'h'; }
  if (h > 0) { return h + 'h ' + String(m).padStart(2, '0') + 'm'; }
  return m + 'm ' + String(s).padStart(2, '0') + 's';
}

function micros(us) {
  const v = Number(us);
  if (v >= 1e6) { return (v / 1e6).toFixed(2) + ' s'; }
  if (v >= 1e3) { return (v / 1e3).toFixed(1) + ' ms'; }
  return v + ' µs';
}

function replaceRows(table, rows) {
  const body = document.querySelector(table + ' tbody');
  body.replaceChildren(...rows);
}

function currentTab() {
  const tab = location.hash.slice(1);
  return TABS.includes(tab) ? tab : 'cluster';
}

function showTab() {
  const tab = currentTab();
  for (const t of TABS) {
    document.getElementById(t).hidden = t !== tab;
    document.getElementById('tab-' + t).classList.toggle('active', t === tab);
  }
  poll();
}

async function getJson(path) {
  // location.origin never carries user:password@, which fetch refuses in a URL; the browser's HTTP
  // authentication cache supplies the credentials given at login.
  const response = await fetch(location.origin + path, { cache: 'no-store', credentials: 'same-origin' });
  if (!response.ok) {
    throw new Error(path + ': ' + (await response.text()).trim());
  }
  return response.json();
}

function renderCluster(view) {
  const now = view.nowMillis;
  const head = document.getElementById('nodes-head');
  head.querySelectorAll('th.mod').forEach(th => th.remove());
  for (const m of view.modules) { head.append(el('th', { class: 'mod' }, m)); }
  let up = 0, synced = 0;
  const rows = view.nodes.map(n => {
    if (n.up) { up++; }
    if (n.inSync) { synced++; }
    const tr = el('tr', { 'data-node': n.address, class: n.up ? 'up' : 'down' },
      el('td', {}, n.address + (n.self ? ' (this node)' : ''), n.comment ? el('div', { class: 'hint' }, n.comment) : ''),
      el('td', { class: 'state ' + (n.up ? 'ok' : 'bad'), title: n.error || '' },
        n.up ? 'UP' : 'DOWN' + (n.downSinceMillis ? ' since ' + ago(n.downSinceMillis, now).replace(' ago', '') : '')),
      el('td', { class: 'version' }, n.version || '–'),
      el('td', { class: 'uptime' }, duration(n.uptimeSeconds)),
      el('td', { class: 'sync ' + (n.inSync ? 'ok' : n.up ? 'warn' : 'bad') }, n.inSync ? 'in sync' : 'out of sync'),
      el('td', { class: 'matched' }, ago(n.lastMatchedMillis, now)));
    for (const m of view.modules) {
      const s = n.modules[m];
      const known = s && s.version > 0;
      tr.append(el('td', { class: 'mod ' + (known ? (s.match ? 'match' : 'differ') : ''), 'data-module': m,
        title: known ? 'version ' + s.version + ', epoch ' + s.epoch : 'not reported' },
        known ? 'v' + s.version + ' ' : '–', el('span', { class: 'checksum' }, known ? s.checksum : '')));
    }
    return tr;
  });
  replaceRows('#nodes', rows);
  document.getElementById('cluster-summary').textContent =
    view.nodes.length + ' nodes · ' + up + ' up · ' + synced + ' in sync';
}

function renderBackends(data) {
  const counts = {};
  const rows = data.servers.map(s => {
    counts[s.status] = (counts[s.status] || 0) + 1;
    const used = Number(s.ConnUsed), free = Number(s.ConnFree), max = Number(s.max_connections || 0);
    const pct = max > 0 ? Math.min(100, Math.round(100 * used / max)) : 0;
    const bar = el('span', { class: 'bar', title: pct + '% of max_connections' }, el('span', {}));
    bar.firstChild.style.width = pct + '%';
    const status = s.status === 'ONLINE' ? 'ok' : s.status === 'SHUNNED' || s.status === 'OFFLINE_SOFT' ? 'warn' : 'bad';
    return el('tr', { 'data-server': s.hostgroup + '/' + s.srv_host + ':' + s.srv_port },
      el('td', { class: 'num' }, s.hostgroup),
      el('td', { class: 'mono' }, s.srv_host + ':' + s.srv_port),
      el('td', { class: 'status ' + status }, s.status),
      el('td', { class: 'pool' }, bar, used + ' used, ' + free + ' free' + (max > 0 ? ' of ' + max : '')),
      el('td', { class: 'num' }, s.ConnOK),
      el('td', { class: 'num errors' }, s.ConnERR),
      el('td', { class: 'num' }, s.Queries),
      el('td', { class: 'num latency' }, micros(s.Latency_us)),
      el('td', {}, s.comment || ''));
  });
  replaceRows('#servers', rows);
  const parts = Object.entries(counts).map(([k, v]) => v + ' ' + k);
  document.getElementById('backends-summary').textContent =
    data.servers.length + ' servers' + (parts.length ? ' · ' + parts.join(' · ') : '');
}

function renderChart(samples) {
  const svg = document.getElementById('qps-chart');
  const max = Math.max(1, ...samples.map(p => p.qps));
  const grid = [0.25, 0.5, 0.75].map(f => {
    const l = document.createElementNS(SVG, 'line');
    const y = (CHART_HEIGHT * f).toFixed(1);
    l.setAttribute('x1', 0); l.setAttribute('x2', CHART_WIDTH); l.setAttribute('y1', y); l.setAttribute('y2', y);
    return l;
  });
  const line = document.createElementNS(SVG, 'polyline');
  const step = samples.length > 1 ? CHART_WIDTH / (samples.length - 1) : 0;
  line.setAttribute('points', samples.map((p, i) =>
    (i * step).toFixed(1) + ',' + (CHART_HEIGHT - CHART_HEIGHT * p.qps / max).toFixed(1)).join(' '));
  svg.replaceChildren(...grid, line);
  return max;
}

function renderTraffic(data) {
  const max = renderChart(data.samples);
  const last = data.samples.length ? data.samples[data.samples.length - 1].qps : 0;
  const minutes = Math.max(1, Math.round(data.samples.length / 60));
  document.getElementById('traffic-summary').textContent = last + ' queries/s now · peak ' + max +
    ' over the last ' + minutes + ' min · ' + data.totalQueries + ' queries since start';
  replaceRows('#digests', data.digests.map(d => el('tr', { 'data-digest': d.digest },
    el('td', { class: 'num' }, d.hostgroup),
    el('td', {}, d.username),
    el('td', { class: 'mono', title: d.digest }, d.digest_text),
    el('td', { class: 'num count' }, d.count_star),
    el('td', { class: 'num' }, micros(Math.round(Number(d.sum_time) / Math.max(1, Number(d.count_star))))),
    el('td', { class: 'num' }, micros(d.max_time)),
    el('td', { class: 'num' }, micros(d.sum_time)))));
  replaceRows('#rules', data.rules.map(r => el('tr', { 'data-rule': r.rule_id },
    el('td', { class: 'num' }, r.rule_id),
    el('td', { class: 'num hits' }, r.hits),
    el('td', {}, r.active === '1' ? 'yes' : 'no'),
    el('td', { class: 'mono' }, r.match_digest || r.match_pattern || ''),
    el('td', { class: 'num' }, r.destination_hostgroup == null ? '' : r.destination_hostgroup),
    el('td', {}, r.comment || ''))));
}

const RENDER = { cluster: renderCluster, backends: renderBackends, traffic: renderTraffic };
let pending = false;

async function poll() {
  if (pending) { return; }
  pending = true;
  const tab = currentTab();
  const banner = document.getElementById('error');
  try {
    RENDER[tab](await getJson('/api/' + tab));
    banner.hidden = true;
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    banner.textContent = 'Cannot refresh: ' + e.message;
    banner.hidden = false;
  } finally {
    pending = false;
  }
}

async function start() {
  try {
    const me = await getJson('/api/whoami');
    document.getElementById('whoami').textContent = me.user + ' (' + me.role + ')';
    document.getElementById('tab-variables').hidden = me.role !== 'admin';
  } catch (e) {
    document.getElementById('whoami').textContent = '';
  }
  window.addEventListener('hashchange', showTab);
  showTab();
  setInterval(poll, POLL_MILLIS);
}

start();
