import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MotifModelInfo, TrainingCurve } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';
import { followBoxWidth } from '../components/frame-cursor';
import { BackLink, ErrorAlert } from '../components/PageChrome';
import { ShippedModels } from '../components/ShippedModels';
import { TrainModelForm } from '../components/TrainModelForm';
import { formatDate } from '../format';

interface Props {
  onBack: () => void;
}

/** While a model trains (or a job reported progress), the registry and the shown curve are re-read this often. */
const REFRESH_MS = 2000;

/**
 * The A4Mer model registry: every model with its state, training progress, data and latest metrics,
 * and the selected model's loss curves (total, local and global terms; learning rate on its own axis).
 */
export function ModelsView({ onBack }: Props) {
  const api = getApi();
  const [models, setModels] = useState<MotifModelInfo[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [curve, setCurve] = useState<TrainingCurve | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // Set by job events; the refresh timer re-reads once for a burst of them.
  const dirty = useRef(false);

  useEffect(() => {
    let live = true;
    api.call('listMotifModels', {}).then(
      (list) => {
        if (!live) return;
        setModels(list);
        setSelected((cur) => (cur !== null && list.some((m) => m.id === cur) ? cur : (list[0]?.id ?? null)));
      },
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, tick]);

  useEffect(() => {
    let live = true;
    if (selected === null) {
      setCurve(null);
      return;
    }
    api.call('trainingCurve', { modelId: selected }).then(
      (c) => live && setCurve(c),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [api, selected, tick]);

  const training = !!models?.some((m) => m.state === 'training');
  useEffect(() => {
    const off = [
      api.on('jobProgress', () => (dirty.current = true)),
      api.on('libraryChanged', () => (dirty.current = true)),
    ];
    const timer = setInterval(() => {
      if (!training && !dirty.current) return;
      dirty.current = false;
      setTick((t) => t + 1);
    }, REFRESH_MS);
    return () => {
      clearInterval(timer);
      off.forEach((f) => f());
    };
  }, [api, training]);

  // A model installed or trained here: list it and show its detail.
  const modelAdded = useCallback((id: number) => {
    setSelected(id);
    setTick((t) => t + 1);
  }, []);

  const model = models?.find((m) => m.id === selected) ?? null;
  return (
    <div className="page models-page" data-testid="models-view">
      <header className="app-header">
        <BackLink onBack={onBack} />
        <h1>A4Mer models</h1>
        {models && (
          <div className="library-info">
            <span>
              {models.length} model{models.length === 1 ? '' : 's'}
            </span>
            {training && <span className="muted">training… (refreshing)</span>}
          </div>
        )}
      </header>
      <ErrorAlert error={error} onDismiss={() => setError(null)} />
      <main className="library">
        <section className="panel">
          <h2>Registry</h2>
          {models === null ? (
            <p className="muted">Loading…</p>
          ) : models.length === 0 ? (
            <p className="muted" data-testid="no-models">
              No A4Mer models in this library yet. A training job registers its model here and its loss curve
              fills in as it runs.
            </p>
          ) : (
            <ModelTable models={models} selected={selected} onSelect={setSelected} />
          )}
        </section>
        {model && (
          <section className="panel" data-testid="model-detail">
            <h2>
              Training · {model.name} (#{model.id})
            </h2>
            {curve && curve.steps.length > 0 ? (
              <LossCurve curve={curve} />
            ) : (
              <p className="muted">{curve ? 'No training steps logged yet.' : 'Loading…'}</p>
            )}
            <div className="model-json">
              <JsonDetails title="Config" value={model.config} />
              <JsonDetails title="Training data" value={model.training} />
              <JsonDetails title="Metrics" value={model.metrics} />
            </div>
          </section>
        )}
        <ShippedModels onInstalled={(m) => modelAdded(m.id)} />
        <TrainModelForm onTrained={modelAdded} />
      </main>
    </div>
  );
}

function ModelTable({
  models,
  selected,
  onSelect,
}: {
  models: MotifModelInfo[];
  selected: number | null;
  onSelect: (id: number) => void;
}) {
  return (
    <table className="table models-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>State</th>
          <th>Steps</th>
          <th>Created</th>
          <th>Training data</th>
          <th>Metrics</th>
        </tr>
      </thead>
      <tbody>
        {models.map((m) => {
          const fraction = m.stepsTotal > 0 ? Math.min(1, m.stepsDone / m.stepsTotal) : 0;
          return (
            <tr
              key={m.id}
              className={`clickable${m.id === selected ? ' selected' : ''}`}
              data-testid="model-row"
              data-model={m.id}
              data-state={m.state}
              aria-selected={m.id === selected}
              onClick={() => onSelect(m.id)}
            >
              <td>
                <button className="btn-text" onClick={() => onSelect(m.id)} aria-pressed={m.id === selected}>
                  {m.name}
                </button>{' '}
                <span className="muted">#{m.id}</span>
              </td>
              <td>
                <span className={`badge badge-${STATE_BADGE[m.state]}`}>{m.state}</span>
              </td>
              <td className="model-steps">
                <span data-testid="model-steps">
                  {m.stepsDone.toLocaleString()} / {m.stepsTotal.toLocaleString()}
                </span>
                <div
                  className="progress"
                  role="progressbar"
                  aria-label={`${m.name}: training steps done`}
                  aria-valuemin={0}
                  aria-valuemax={m.stepsTotal}
                  aria-valuenow={m.stepsDone}
                >
                  <div className="progress-fill" style={{ width: `${fraction * 100}%` }} />
                </div>
              </td>
              <td>{formatDate(m.createdAt)}</td>
              <td className="model-summary" title={JSON.stringify(m.training, null, 1)}>
                {summarize(m.training)}
              </td>
              <td className="model-summary" title={JSON.stringify(m.metrics, null, 1)}>
                {summarize(m.metrics)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Badge colour by model state, reusing the job badges' palette. */
const STATE_BADGE: Record<MotifModelInfo['state'], string> = {
  training: 'running',
  ready: 'succeeded',
  failed: 'failed',
};

function formatValue(v: unknown): string | null {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return Number.isInteger(v) ? v.toLocaleString() : v.toPrecision(3);
  }
  if (typeof v === 'string') return v.length > 24 ? `${v.slice(0, 23)}…` : v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v === null) return '–';
  if (Array.isArray(v))
    return v.length <= 3 && v.every((x) => typeof x !== 'object')
      ? v.map((x) => formatValue(x)).join(', ')
      : `${v.length} items`;
  return null; // nested objects are in the tooltip and the details below
}

/** The first few scalar entries of a record, as `key value` pairs; the rest is in the tooltip. */
function summarize(record: Record<string, unknown>, max = 4): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    const text = formatValue(v);
    if (text === null) continue;
    if (parts.length === max) {
      parts.push('…');
      break;
    }
    parts.push(`${k} ${text}`);
  }
  return parts.length > 0 ? parts.join(' · ') : '–';
}

function JsonDetails({ title, value }: { title: string; value: Record<string, unknown> }) {
  return (
    <details>
      <summary>{title}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

const PLOT_HEIGHT = 260;
const AXIS = {
  stroke: '#8a919c',
  grid: { stroke: '#2a2f37', width: 1 },
  ticks: { stroke: '#2a2f37', width: 1 },
};
/** The loss columns drawn on the left axis, in this order and colour; `lr` goes on the right axis. */
const LOSS_SERIES: { key: string; label: string; stroke: string }[] = [
  { key: 'loss', label: 'loss', stroke: '#3d8bfd' },
  { key: 'local', label: 'local term', stroke: '#46c37b' },
  { key: 'global', label: 'global term', stroke: '#d9a43b' },
];
const LR = { key: 'lr', label: 'learning rate', stroke: '#b07aa1' };

/** A column with NaN (sent as null) and, on a log axis, values <= 0 as gaps. */
function column(values: (number | null)[], log: boolean): (number | null)[] {
  return values.map((v) => (v === null || !Number.isFinite(v) || (log && v <= 0) ? null : v));
}

/** Legend value under the cursor: significant digits (exponent form for tiny values), a dash for a gap. */
function readout(digits: number, exponent = false) {
  return (_u: uPlot, v: number | null) =>
    v === null || !Number.isFinite(v) ? '–' : exponent ? v.toExponential(digits) : v.toPrecision(digits);
}

/** The training loss by step (uPlot); missing values are gaps, a log scale on request. */
function LossCurve({ curve }: { curve: TrainingCurve }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const [log, setLog] = useState(false);
  // NaN crosses JSON as null, whatever the declared type says.
  const series = curve.series as Record<string, (number | null)[]>;
  // Keyed by the column names, so a refresh with more steps keeps the plot and only sets its data.
  const keys = LOSS_SERIES.filter((s) => series[s.key]).map((s) => s.key);
  const keyList = keys.join(',');
  const shown = useMemo(() => LOSS_SERIES.filter((s) => keyList.split(',').includes(s.key)), [keyList]);
  const hasLr = !!series[LR.key];
  const data = useMemo<uPlot.AlignedData>(
    () => [
      curve.steps,
      ...shown.map((s) => column(series[s.key], log)),
      ...(hasLr ? [column(series[LR.key], false)] : []),
    ],
    [curve.steps, series, shown, hasLr, log],
  );
  const plot = useRef<uPlot | null>(null);

  const build = useCallback(
    (box: HTMLDivElement, d: uPlot.AlignedData) => {
      const line = { width: 1.5, points: { show: false } };
      const opts: uPlot.Options = {
        width: Math.max(300, box.clientWidth),
        height: PLOT_HEIGHT,
        scales: {
          x: { time: false },
          loss: log ? { distr: 3 } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
          ...(hasLr ? { lr: {} } : {}),
        },
        axes: [
          { ...AXIS, label: 'step', labelSize: 16 },
          { ...AXIS, scale: 'loss', label: 'loss', labelSize: 16, size: 56 },
          ...(hasLr
            ? [
                {
                  ...AXIS,
                  scale: 'lr',
                  label: 'lr',
                  labelSize: 16,
                  size: 64,
                  side: 1,
                  grid: { show: false },
                  // Learning rates are 1e-5..1e-3: the default ticks would all read 0.
                  values: (_u: uPlot, splits: number[]) =>
                    splits.map((v) => (v === 0 ? '0' : v.toExponential(1))),
                },
              ]
            : []),
        ],
        series: [
          { label: 'step' },
          ...shown.map((s) => ({
            label: s.label,
            scale: 'loss',
            stroke: s.stroke,
            value: readout(4),
            ...line,
          })),
          ...(hasLr
            ? [
                {
                  label: LR.label,
                  scale: 'lr',
                  stroke: LR.stroke,
                  dash: [4, 4],
                  value: readout(2, true),
                  ...line,
                },
              ]
            : []),
        ],
      };
      return new uPlot(opts, d, box);
    },
    [log, hasLr, shown],
  );

  // A new plot when the columns or the scale change; new data for the same columns only redraws.
  const latest = useRef(data);
  useEffect(() => {
    latest.current = data;
    plot.current?.setData(data);
  }, [data]);
  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const u = build(box, latest.current);
    plot.current = u;
    const unfollow = followBoxWidth(u, box, PLOT_HEIGHT, 300);
    return () => {
      unfollow();
      plot.current = null;
      u.destroy();
    };
  }, [build]);

  const last = curve.steps.length - 1;
  const lastLoss = series.loss?.[last];
  return (
    <div className="loss-curve-wrap">
      <div className="loss-curve-bar">
        <span className="muted" data-testid="loss-summary">
          {curve.steps.length} logged steps, last step {curve.steps[last]}
          {typeof lastLoss === 'number' ? ` · loss ${lastLoss.toPrecision(3)}` : ''}
        </span>
        <label className="check">
          <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> Log scale
        </label>
      </div>
      <div
        className="loss-curve"
        ref={boxRef}
        data-testid="loss-curve"
        data-steps={curve.steps.length}
        data-series={keyList}
      />
    </div>
  );
}
