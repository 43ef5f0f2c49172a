import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The daemon's Prometheus metrics, in a registry of their own (no process-global state), with
 * the process's own (resident memory, heap, open file descriptors, event-loop lag): what a
 * service left running for weeks on a small NAS is watched for.
 */
export class Metrics {
  readonly registry = new Registry();
  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  readonly files = new Counter({ name: 'cloudreve_sync_files_total', help: 'Files transferred, by direction', labelNames: ['direction'] as const, registers: [this.registry] });
  readonly bytes = new Counter({ name: 'cloudreve_sync_bytes_total', help: 'Bytes transferred, by direction', labelNames: ['direction'] as const, registers: [this.registry] });
  readonly actions = new Counter({ name: 'cloudreve_sync_actions_total', help: 'Actions carried out, by type and result', labelNames: ['type', 'result'] as const, registers: [this.registry] });
  readonly errors = new Counter({ name: 'cloudreve_sync_errors_total', help: 'Errors, by class', labelNames: ['class'] as const, registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'cloudreve_sync_queue_depth', help: 'Actions waiting or running', registers: [this.registry] });
  readonly lastSuccess = new Gauge({ name: 'cloudreve_sync_last_success_timestamp_seconds', help: 'When a pass of the folder last succeeded', labelNames: ['folder'] as const, registers: [this.registry] });
  readonly paused = new Gauge({ name: 'cloudreve_sync_folder_paused', help: '1 while the folder is paused (safety guard, login refused)', labelNames: ['folder'] as const, registers: [this.registry] });
  readonly skipped = new Gauge({ name: 'cloudreve_sync_skipped_paths', help: 'Paths skipped by the last pass', labelNames: ['folder'] as const, registers: [this.registry] });
  readonly conflicts = new Counter({ name: 'cloudreve_sync_conflicts_total', help: 'Conflicts settled', labelNames: ['folder'] as const, registers: [this.registry] });
  readonly requests = new Histogram({
    name: 'cloudreve_sync_request_duration_seconds',
    help: 'Cloudreve API request latency, by route',
    labelNames: ['route', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
}
