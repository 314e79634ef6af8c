// An equity curve as SVG: no library, a line over the samples with the first and last values and times as labels.
// Amounts are parsed to numbers for drawing only; the figures shown beside the chart stay the API's exact strings.
const NS = "http://www.w3.org/2000/svg";

function node(name, attributes, text) {
  const element = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

export function lineChart(container, samples, { title, timeFormat }) {
  container.replaceChildren();
  const width = 600, height = 180, left = 70, right = 8, top = 10, bottom = 22;
  const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, preserveAspectRatio: "none" });
  if (samples.length < 2) {
    svg.append(node("text", { x: left, y: height / 2 }, samples.length ? "one sample so far: the curve starts with the next" : "no samples yet"));
    container.append(svg);
    return;
  }
  const xs = samples.map((s) => new Date(s.time).getTime());
  const ys = samples.map((s) => Number(s.equity));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const px = (x) => left + ((x - x0) / Math.max(1, x1 - x0)) * (width - left - right);
  const py = (y) => top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom);
  svg.append(node("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  svg.append(node("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  svg.append(node("text", { x: 4, y: top + 10 }, y1.toFixed(2)));
  svg.append(node("text", { x: 4, y: height - bottom }, y0.toFixed(2)));
  svg.append(node("text", { x: left, y: height - 6 }, timeFormat(new Date(x0))));
  svg.append(node("text", { x: width - right, y: height - 6, "text-anchor": "end" }, timeFormat(new Date(x1))));
  const path = xs.map((x, i) => `${i ? "L" : "M"}${px(x).toFixed(1)},${py(ys[i]).toFixed(1)}`).join(" ");
  svg.append(node("path", { class: "line", d: path }));
  container.append(svg);
}
