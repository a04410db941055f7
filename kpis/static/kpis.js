/* Draws the KPI charts with Apache ECharts (served from our own static files) from the same
   rows as the tables beside them: the data comes in a JSON block, never as inline script. */
(function () {
  "use strict";

  function data() {
    var block = document.getElementById("kpi-charts");
    return block ? JSON.parse(block.textContent) : [];
  }

  function column(table, index) {
    return table.rows.map(function (row) { return row[index]; });
  }

  function narrow() {
    return window.matchMedia("(max-width: 47.99rem)").matches;
  }

  // More categories than fit side by side: on a phone, or more than twelve anywhere.
  function crowded(table) {
    return table.rows.length > (narrow() ? 4 : 12);
  }

  function categoryChart(table, indexes, extra) {
    return Object.assign({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      // Every category named (ECharts would skip every other one on a phone), tilted when crowded.
      xAxis: { type: "category", data: column(table, 0), axisLabel: { interval: 0, rotate: crowded(table) ? 40 : 0 } },
      yAxis: { type: "value" },
      series: indexes.map(function (i) {
        return { name: table.columns[i], type: "bar", data: column(table, i) };
      })
    }, extra || {});
  }

  var builders = {
    funnel: function (table) {
      if (table.columns.length > 3 && table.name === "festival_funnel") {
        return categoryChart(table, [1, 3]);
      }
      return {
        tooltip: { trigger: "item" },
        series: [{
          type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "5%",
          label: { show: true, position: "inside" },
          data: table.rows.map(function (row) { return { name: row[0], value: row[1] }; })
        }]
      };
    },
    bars: function (table) {
      return categoryChart(table, table.series || [1]);
    },
    stacked: function (table) {
      var option = categoryChart(table, [1, 2]);
      option.series.forEach(function (s) { s.stack = "revenue"; });
      return option;
    },
    line: function (table) {
      var option = categoryChart(table, [1, 2]);
      option.series.forEach(function (s) { s.type = "line"; });
      option.yAxis = { type: "value", axisLabel: { formatter: "{value}%" } };
      return option;
    },
    lorenz: function (table) {
      var points = table.rows.map(function (row) { return [row[0], row[1]]; });
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 60, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "value", min: 0, max: 100, name: table.columns[0], nameLocation: "middle", nameGap: 25 },
        yAxis: { type: "value", min: 0, max: 100, name: table.columns[1] },
        series: [
          { type: "line", data: points, name: table.title, areaStyle: {} },
          { type: "line", data: [[0, 0], [100, 100]], lineStyle: { type: "dashed" }, symbol: "none" }
        ]
      };
    },
    heatmap: function (table) {
      var months = column(table, 0);
      var ks = table.columns.slice(2);
      var cells = [];
      table.rows.forEach(function (row, y) {
        row.slice(2).forEach(function (value, x) {
          if (value !== null) { cells.push([x, y, value]); }
        });
      });
      // Whole per cents in the cells, and none on a phone, where twelve columns leave no room
      // for them (the table below has every figure; a tap shows a cell's).
      return {
        tooltip: {
          position: "top",
          formatter: function (p) {
            return months[p.value[1]] + " · " + ks[p.value[0]] + " · " + Math.round(p.value[2]) + "%";
          }
        },
        grid: { left: 80, right: 20, top: 10, bottom: 90 },
        xAxis: { type: "category", data: ks, axisLabel: { interval: 0, rotate: narrow() ? 40 : 0 } },
        yAxis: { type: "category", data: months },
        visualMap: {
          min: 0, max: 100, calculable: true, orient: "horizontal", left: "center", bottom: 0,
          itemHeight: narrow() ? 120 : 140, formatter: function (v) { return Math.round(v) + "%"; }
        },
        series: [{
          type: "heatmap", data: cells,
          label: { show: !narrow(), formatter: function (p) { return Math.round(p.value[2]) + "%"; } }
        }]
      };
    }
  };

  function draw() {
    if (!window.echarts) { return; }
    data().forEach(function (table) {
      var node = document.querySelector('.kpi-chart[data-chart="' + table.name + '"]');
      var build = builders[table.chart];
      if (!node || !build || !table.rows.length) { return; }
      var chart = window.echarts.init(node, null, { renderer: "svg" });
      chart.setOption(build(table));
      node.setAttribute("data-drawn", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
