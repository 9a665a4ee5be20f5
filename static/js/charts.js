// Draws each <figure data-chart> from the table inside it, with the vendored
// Chart.js (static/vendor/chartjs). The table stays in the page for screen
// readers; the drawing is only a view of it. Runs again after htmx swaps.
(function () {
  const COLOURS = ["#2f5bea", "#067647", "#c4320a"];

  function readTable(figure) {
    const table = figure.querySelector("table.chart-table");
    const columns = Array.from(table.querySelectorAll("thead th")).slice(1).map((th) => th.textContent.trim());
    const labels = [];
    const values = columns.map(() => []);
    table.querySelectorAll("tbody tr").forEach((row) => {
      labels.push(row.querySelector("th").textContent.trim());
      row.querySelectorAll("td").forEach((cell, index) => values[index].push(Number(cell.dataset.value)));
    });
    return { columns, labels, values };
  }

  function plot(canvas, labels, columns, values, kind) {
    const twoAxes = columns.length === 2;
    const datasets = columns.map((name, index) => ({
      label: name,
      data: values[index],
      backgroundColor: COLOURS[index % COLOURS.length],
      borderColor: COLOURS[index % COLOURS.length],
      type: twoAxes && index === 1 ? "line" : kind,
      yAxisID: twoAxes && index === 1 ? "y1" : "y",
      pointRadius: 0,
    }));
    const scales = { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true, position: "left" } };
    if (twoAxes) scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } };
    new window.Chart(canvas, {
      type: kind,
      data: { labels, datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: columns.length > 1 } },
        scales,
      },
    });
  }

  // A figure has one canvas for all columns, or one canvas per column (data-column).
  function draw(figure) {
    if (figure.dataset.drawn || typeof window.Chart === "undefined") return;
    figure.dataset.drawn = "1";
    const { columns, labels, values } = readTable(figure);
    const kind = figure.dataset.chart;
    figure.querySelectorAll("canvas").forEach((canvas) => {
      if (canvas.dataset.column === undefined) {
        plot(canvas, labels, columns, values, kind);
      } else {
        const index = Number(canvas.dataset.column);
        plot(canvas, labels, [columns[index]], [values[index]], kind);
      }
    });
  }

  function drawAll(root) {
    root.querySelectorAll("figure[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll(document));
  document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
})();
