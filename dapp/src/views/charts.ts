// Charts with lightweight-charts (v5 API). Plotting is the one place floats are allowed: the
// points are parsed from the API's exact decimals only to be drawn.
import {
  CandlestickSeries,
  createChart,
  LineSeries,
  type IChartApi,
  type ISeriesApi,
  type SeriesType,
  type UTCTimestamp,
} from "lightweight-charts";
import { locale } from "../i18n";
import type { BalanceChange, Candle } from "../types";
import { plotValue } from "../units";

const GREEN = "#1b7f3b";
const RED = "#b42318";

function baseChart(el: HTMLElement): IChartApi {
  return createChart(el, {
    autoSize: true,
    // The logo injects a <style> element, which the page's CSP refuses; the footer carries the
    // attribution the library's licence asks for instead.
    layout: { background: { color: "#ffffff" }, textColor: "#1f2933", fontSize: 12, attributionLogo: false },
    grid: { vertLines: { color: "#eef1f4" }, horzLines: { color: "#eef1f4" } },
    localization: {
      locale: locale(),
      priceFormatter: (value: number) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 6 }).format(value),
    },
    timeScale: { timeVisible: true, secondsVisible: false },
    rightPriceScale: { borderVisible: false },
  });
}

export class PriceChart {
  private chart: IChartApi;
  private series: ISeriesApi<SeriesType> | null = null;

  constructor(readonly el: HTMLElement) {
    this.chart = baseChart(el);
  }

  show(candles: Candle[], mode: "candles" | "line"): void {
    if (this.series) this.chart.removeSeries(this.series);
    if (mode === "candles") {
      const series = this.chart.addSeries(CandlestickSeries, {
        upColor: GREEN,
        downColor: RED,
        borderUpColor: GREEN,
        borderDownColor: RED,
        wickUpColor: GREEN,
        wickDownColor: RED,
        priceFormat: { type: "price", precision: 6, minMove: 0.000001 },
      });
      series.setData(
        candles.map((c) => ({
          time: c.bucket.timestamp as UTCTimestamp,
          open: plotValue(c.open.value),
          high: plotValue(c.high.value),
          low: plotValue(c.low.value),
          close: plotValue(c.close.value),
        })),
      );
      this.series = series;
    } else {
      const series = this.chart.addSeries(LineSeries, {
        color: GREEN,
        lineWidth: 2,
        priceFormat: { type: "price", precision: 6, minMove: 0.000001 },
      });
      series.setData(candles.map((c) => ({ time: c.bucket.timestamp as UTCTimestamp, value: plotValue(c.close.value) })));
      this.series = series;
    }
    this.chart.timeScale().fitContent();
  }

  destroy(): void {
    this.chart.remove();
  }
}

export class BalanceChart {
  private chart: IChartApi;
  private series: ISeriesApi<"Line">;

  constructor(readonly el: HTMLElement) {
    this.chart = baseChart(el);
    this.series = this.chart.addSeries(LineSeries, {
      color: GREEN,
      lineWidth: 2,
      lineType: 1, // steps: a balance holds its value until the next change
      priceFormat: { type: "price", precision: 4, minMove: 0.0001 },
    });
  }

  show(changes: BalanceChange[]): void {
    // One point per timestamp (the last change in it), oldest first, as the library requires.
    const byTime = new Map<number, number>();
    for (const change of [...changes].reverse()) byTime.set(change.time.timestamp, plotValue(change.balance.value));
    this.series.setData([...byTime].map(([time, value]) => ({ time: time as UTCTimestamp, value })));
    this.chart.timeScale().fitContent();
  }

  destroy(): void {
    this.chart.remove();
  }
}
