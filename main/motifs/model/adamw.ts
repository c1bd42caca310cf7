/**
 * AdamW (Loshchilov & Hutter) over named weights (a stage's `vars`, or the union of two stages' under
 * prefixed names for joint training), with its moments held as named variables so a
 * training job can checkpoint and resume them. With t the number of updates so far (1-based):
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  mhat = m / (1 - b1^t),  vhat = v / (1 - b2^t)
 *   theta -= lr * ( mhat / (sqrt(vhat) + eps) + wd * theta )      (wd on '.kernel' weights only)
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from './config';
import type { NamedWeight } from './model';

export interface AdamWState {
  updates: number;
  m: NamedWeight[];
  v: NamedWeight[];
}

export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  updates = 0;

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    private readonly cfg: Pick<TrainConfig, 'beta1' | 'beta2' | 'adamEps' | 'weightDecay'>,
  ) {
    for (const [name, p] of params) {
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  /** One update with gradients by weight name (a weight without a gradient is left unchanged). */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.updates++;
    const { beta1: b1, beta2: b2, adamEps: eps, weightDecay: wd } = this.cfg;
    const c1 = 1 / (1 - Math.pow(b1, this.updates));
    const c2 = 1 / (1 - Math.pow(b2, this.updates));
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const p = this.params.get(name);
        const m = this.m.get(name);
        const v = this.v.get(name);
        if (!p || !m || !v) throw new Error(`AdamW: gradient for unknown weight "${name}"`);
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        let step = tf.div(tf.mul(m, c1), tf.add(tf.sqrt(tf.mul(v, c2)), eps));
        if (wd > 0 && name.endsWith('.kernel')) step = tf.add(step, tf.mul(p, wd));
        p.assign(tf.sub(p, tf.mul(step, lr)));
      }
    });
  }

  exportState(): AdamWState {
    const dump = (vars: Map<string, tf.Variable>): NamedWeight[] =>
      [...vars].map(([name, x]) => ({ name, shape: [...x.shape], data: x.dataSync() as Float32Array }));
    return { updates: this.updates, m: dump(this.m), v: dump(this.v) };
  }

  loadState(state: AdamWState): void {
    const load = (vars: Map<string, tf.Variable>, list: NamedWeight[], what: string): void => {
      for (const w of list) {
        const x = vars.get(w.name);
        if (!x || x.size !== w.data.length)
          throw new Error(`AdamW state: ${what} of "${w.name}" does not fit the model`);
        tf.tidy(() => x.assign(tf.tensor(w.data, x.shape)));
      }
    };
    load(this.m, state.m, 'first moment');
    load(this.v, state.v, 'second moment');
    this.updates = state.updates;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}
