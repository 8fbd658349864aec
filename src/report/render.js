/* render.js — draws a wanka report from the JSON the C writer put in #wanka-data (the same
 * document as FILE.data.json beside the HTML). Embedded into the wanka binary at build time
 * (cmake/assets.cmake) with Apache ECharts, so the page opens offline. Animations are off so
 * every chart is complete the moment the page has loaded (the browser test and screenshots
 * rely on it). Each chart's div carries data-series: the series it must show. */
(function () {
  'use strict';
  var doc = JSON.parse(document.getElementById('wanka-data').textContent);
  var root = document.getElementById('report');
  var palette = ['#2f6fb0', '#d9822b', '#3a9a5b', '#c23b3b', '#7b5ea7', '#8c6d3f',
                 '#d16ba5', '#5f6b73', '#b8b02f', '#2aa6a6'];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  /* 1234.5 -> "1,234.5"; tiny and huge numbers in exponent form */
  function num(v) {
    if (v === null || v === undefined) return 'n/a';
    if (typeof v !== 'number') return String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(2);
    return v.toLocaleString('en-US', {maximumSignificantDigits: 4});
  }

  function axis(spec, kind) {
    var a = {name: spec.label || '', nameLocation: 'middle', nameGap: 32,
             type: spec.log ? 'log' : 'value', scale: !spec.log && !spec.zero,
             axisLabel: {formatter: num}};
    if (kind === 'bar' || kind === 'stack') a.type = 'value';
    if (spec.min !== undefined) a.min = spec.min;
    if (spec.max !== undefined) a.max = spec.max;
    return a;
  }

  function xyOption(c) {
    var scatter = c.kind === 'scatter';
    var series = c.series.map(function (s) {
      var data = s.x.map(function (x, i) { return [x, s.y[i]]; });
      var o = {name: s.name, type: scatter ? 'scatter' : 'line', data: data,
               showSymbol: scatter || data.length < 40, symbolSize: scatter ? 7 : 4,
               lineStyle: {width: 1.6}, step: c.step ? 'end' : false};
      if (s.labels) o.labels = s.labels;
      return o;
    });
    var o = {
      xAxis: axis(c.x, c.kind), yAxis: axis(c.y, c.kind), series: series,
      tooltip: {trigger: scatter ? 'item' : 'axis', confine: true},
      legend: {top: 0},
      /* room for the legend's rows (it wraps; about four names a row) */
      grid: {left: 70, right: 30, top: 16 + 24 * Math.ceil(series.length / 4), bottom: 60}
    };
    o.yAxis.nameGap = 52;
    if (scatter) {
      o.tooltip.formatter = function (p) {
        var s = c.series[p.seriesIndex];
        var lab = s.labels ? s.labels[p.dataIndex] + '<br>' : '';
        return lab + c.x.label + ': ' + num(p.value[0]) + '<br>' + c.y.label + ': ' + num(p.value[1]);
      };
    }
    return o;
  }

  function barOption(c) {
    var stack = c.kind === 'stack';
    var cats = {type: 'category', data: c.categories, axisLabel: {interval: 0, fontSize: 11}};
    var vals = axis(c.y, c.kind);
    vals.scale = false;
    vals.min = 0; /* bars of amounts start at zero */
    var o = {
      series: c.series.map(function (s) {
        return {name: s.name, type: 'bar', data: s.y, stack: stack ? 'all' : undefined,
                barMaxWidth: 48};
      }),
      tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}, confine: true},
      legend: {top: 0},
      grid: {left: 70, right: 30, top: 16 + 24 * Math.ceil(c.series.length / 4), bottom: 60,
             containLabel: true}
    };
    if (c.horizontal) {
      cats.inverse = true;
      o.yAxis = cats;
      o.xAxis = vals;
      o.xAxis.nameGap = 28;
      o.grid.left = 10;
    } else {
      o.xAxis = cats;
      o.xAxis.name = c.x.label || '';
      o.xAxis.nameLocation = 'middle';
      o.xAxis.nameGap = 32;
      o.yAxis = vals;
      o.yAxis.nameGap = 52;
    }
    return o;
  }

  function gridOption(c) {
    var g = c.grid, data = [];
    for (var r = 0; r < g.rows; r++)
      for (var k = 0; k < g.cols; k++) {
        var i = r * g.cols + k;
        if (i < g.values.length) data.push([k, r, g.values[i]]);
      }
    var cols = [];
    for (var k2 = 0; k2 < g.cols; k2++) cols.push(String(k2 + 1));
    return {
      tooltip: {confine: true, formatter: function (p) {
        var i = p.value[1] * g.cols + p.value[0];
        return (g.cell || 'cell') + ' ' + (i + 1) + ' (' + g.row_names[p.value[1]] + ', #' +
               (p.value[0] + 1) + ')<br>' + (g.value || 'value') + ': ' + num(p.value[2]);
      }},
      grid: {left: 10, right: 90, top: 20, bottom: 40, containLabel: true},
      xAxis: {type: 'category', data: cols, name: c.x.label || '', nameLocation: 'middle',
              nameGap: 26, splitArea: {show: true}},
      yAxis: {type: 'category', data: g.row_names, inverse: true, splitArea: {show: true}},
      visualMap: {min: g.lo, max: g.hi, calculable: true, orient: 'vertical', right: 0,
                  top: 'middle', text: [num(g.hi), num(g.lo)], formatter: num,
                  inRange: {color: ['#f7fbff', '#9ecae1', '#3182bd', '#08306b']}},
      series: [{name: g.value || 'value', type: 'heatmap', data: data,
                /* a share reads as a percentage; anything else as the number */
                label: {show: g.rows * g.cols <= 128, fontSize: 10, formatter: function (p) {
                  return g.lo === 0 && g.hi === 1 ? Math.round(100 * p.value[2]) + '%'
                                                  : num(p.value[2]);
                }},
                itemStyle: {borderColor: '#fff', borderWidth: 1}}]
    };
  }

  function drawChart(parent, c, index) {
    var box = el('figure', 'chart');
    box.appendChild(el('figcaption', 'chart-title', c.title));
    var div = el('div', 'plot');
    div.id = 'chart-' + index;
    div.setAttribute('data-series', String(c.kind === 'grid' ? 1 : c.series.length));
    div.setAttribute('data-kind', c.kind);
    var legend = 24 * Math.ceil(c.series.length / 4);
    if (c.kind === 'grid') div.style.height = Math.max(220, 28 * c.grid.rows + 90) + 'px';
    else if (c.horizontal) div.style.height = Math.max(260, 34 * c.categories.length + 80 + legend) + 'px';
    else div.style.height = (300 + legend) + 'px';
    box.appendChild(div);
    if (c.note) box.appendChild(el('p', 'note', c.note));
    parent.appendChild(box);
    var opt = c.kind === 'grid' ? gridOption(c)
            : (c.kind === 'bar' || c.kind === 'stack') ? barOption(c) : xyOption(c);
    opt.animation = false;
    opt.color = palette;
    var chart = echarts.init(div, null, {renderer: 'canvas'});
    chart.setOption(opt);
    window.addEventListener('resize', function () { chart.resize(); });
  }

  function drawTable(parent, t) {
    var box = el('div', 'table-box');
    if (t.caption) box.appendChild(el('p', 'table-caption', t.caption));
    var tab = el('table'), head = el('tr');
    t.head.forEach(function (h) { head.appendChild(el('th', null, h)); });
    tab.appendChild(head);
    t.rows.forEach(function (row) {
      var tr = el('tr');
      row.forEach(function (cell, i) { tr.appendChild(el('td', i ? 'num' : null, cell)); });
      tab.appendChild(tr);
    });
    box.appendChild(tab);
    parent.appendChild(box);
  }

  root.appendChild(el('h1', null, doc.title));
  if (doc.subtitle) root.appendChild(el('p', 'subtitle', doc.subtitle));
  var n = 0;
  doc.sections.forEach(function (s) {
    /* in the document before its charts are made: ECharts sizes a chart from its div */
    var sec = root.appendChild(el('section'));
    if (s.heading) sec.appendChild(el('h2', null, s.heading));
    if (s.text) sec.appendChild(el('p', null, s.text));
    var grid = null; /* charts side by side until a table comes between them */
    s.items.forEach(function (it) {
      if (it.table) {
        grid = null;
        drawTable(sec, it.table);
        return;
      }
      if (!grid) sec.appendChild(grid = el('div', 'charts'));
      drawChart(grid, it.chart, n++);
    });
  });
  root.appendChild(el('p', 'footer', doc.footer));
})();
