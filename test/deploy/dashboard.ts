// dashboard.ts reads the chart's Grafana dashboard (helm/geecache/dashboards/geecache.json) and the PromQL in it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartDir } from './render.js';

export const dashboardFile = join(chartDir, 'dashboards', 'geecache.json');

/** The parts of Grafana's dashboard model the tests read. */
export interface Dashboard {
  title?: string;
  uid?: string;
  templating?: { list?: DashboardVariable[] };
  panels?: Panel[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
  allValue?: string;
}

export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr?: string; refId?: string; legendFormat?: string; datasource?: { type?: string; uid?: string } }>;
}

export function dashboardText(): string {
  return readFileSync(dashboardFile, 'utf8');
}

export function loadDashboard(): Dashboard {
  return JSON.parse(dashboardText()) as Dashboard;
}

/** Every panel target's expression, with the panel's title. */
export function panelExpressions(dashboard: Dashboard): Array<{ title: string; expr: string }> {
  return (dashboard.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title ?? '', expr: t.expr ?? '' })));
}

/**
 * The series selector inside each query variable's label_values(selector, label):
 * the label is a name, not a metric, and a selector-less label_values(label) has none.
 */
export function variableSelectors(dashboard: Dashboard): Array<{ name: string; selector: string }> {
  const found: Array<{ name: string; selector: string }> = [];
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    const match = /^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(query.trim());
    if (match) found.push({ name: v.name, selector: match[1]! });
    else if (!/^label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$/.test(query.trim())) throw new Error(`variable ${v.name}: unexpected query ${query}`);
  }
  return found;
}

/**
 * An expression as Grafana sends it to Prometheus: each $variable (or
 * ${variable}) replaced by its value; unknown variables throw.
 */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`no value for ${whole} in ${expr}`);
    return value;
  });
}
