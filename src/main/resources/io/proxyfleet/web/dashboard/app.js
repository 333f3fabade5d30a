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

function downFor(since, now) {
  const text = since == null ? 'now' : ago(since, now);
  return text === 'now' ? '' : ' for ' + text.replace(' ago', '');
}

function ago(millis, now) {
  if (millis == null) { return 'never'; }
  const s = Math.max(0, Math.round((now - millis) / 1000));
  if (s < 2) { return 'now'; }
  if (s < 120) { return s + ' s ago'; }
  if (s < 7200) { return Math.round(s / 60) + ' min ago'; }
  return Math.round(s / 3600) + ' h ago';
}

function plural(n, word) {
  return n + ' ' + word + (n === 1 ? '' : 's');
}

function shortChecksum(checksum) {
  return checksum.length > 10 ? checksum.slice(0, 8) + '…' : checksum;
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
  // a break opportunity after each underscore keeps seven module columns within a laptop's width
  for (const m of view.modules) { head.append(el('th', { class: 'mod' }, m.replaceAll('_', '_\u200b'))); }
  let up = 0, synced = 0;
  const rows = view.nodes.map(n => {
    if (n.up) { up++; }
    if (n.inSync) { synced++; }
    const tr = el('tr', { 'data-node': n.address, class: n.up ? 'up' : 'down' },
      el('td', {}, n.address + (n.self ? ' (this node)' : ''), n.comment ? el('div', { class: 'hint' }, n.comment) : ''),
      el('td', { class: 'state ' + (n.up ? 'ok' : 'bad'), title: n.error || '' },
        n.up ? 'UP' : 'DOWN' + downFor(n.downSinceMillis, now)),
      el('td', { class: 'version' }, n.version || '–'),
      el('td', { class: 'uptime' }, duration(n.uptimeSeconds)),
      el('td', { class: 'sync ' + (n.inSync ? 'ok' : n.up ? 'warn' : 'bad') }, n.inSync ? 'in sync' : 'out of sync'),
      el('td', { class: 'matched' }, ago(n.lastMatchedMillis, now)));
    for (const m of view.modules) {
      const s = n.modules[m];
      const known = s && s.version > 0;
      // A down node's cells are what it reported last: shown, but not coloured as if current.
      const state = !known ? '' : !n.up ? 'stale' : s.match ? 'match' : 'differ';
      tr.append(el('td', { class: 'mod ' + state, 'data-module': m,
        title: known ? s.checksum + ', version ' + s.version + ', epoch ' + s.epoch : 'not reported' },
        known ? 'v' + s.version + ' ' : '–',
        el('span', { class: 'checksum', 'data-checksum': known ? s.checksum : '' }, known ? shortChecksum(s.checksum) : '')));
    }
    return tr;
  });
  replaceRows('#nodes', rows);
  document.getElementById('cluster-summary').textContent =
    plural(view.nodes.length, 'node') + ' · ' + up + ' up · ' + synced + ' in sync';
}

function renderBackends(data) {
  const counts = {};
  const groups = {};
  for (const s of data.servers) {
    const g = groups[s.hostgroup] || (groups[s.hostgroup] = { servers: 0, online: 0, used: 0 });
    g.servers++;
    g.used += Number(s.ConnUsed);
    if (s.status === 'ONLINE') { g.online++; }
  }
  const rows = [];
  let hostgroup = null;
  for (const s of data.servers) {
    if (s.hostgroup !== hostgroup) {
      hostgroup = s.hostgroup;
      const g = groups[hostgroup];
      rows.push(el('tr', { class: 'hostgroup', 'data-hostgroup': hostgroup }, el('td', { colspan: 9 },
        'Hostgroup ' + hostgroup + ' · ' + plural(g.servers, 'server') + ' · ' + g.online + ' ONLINE · ' +
        g.used + ' connections in use')));
    }
    rows.push(serverRow(s, counts));
  }
  replaceRows('#servers', rows);
  const parts = Object.entries(counts).map(([k, v]) => v + ' ' + k);
  document.getElementById('backends-summary').textContent =
    plural(data.servers.length, 'server') + (parts.length ? ' · ' + parts.join(' · ') : '');
}

function serverRow(s, counts) {
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
  document.getElementById('qps-max').textContent = max + ' q/s';
  document.getElementById('qps-start').textContent = minutes + ' min ago';
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
