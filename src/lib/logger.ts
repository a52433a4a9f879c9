// Structured JSON logging (pino) with a redacting sink: style.md convention 8.
import { pino, type Logger, type DestinationStream } from 'pino';
import { maskPersonalNumbers, redact } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a collecting stream. */
  destination?: DestinationStream;
}

/**
 * Create the application logger. Every object passed to a log call is deep-redacted (secret keys removed,
 * personnummer masked), and the final serialised line is masked once more as a safety net, so a number
 * that reaches a message string, an error stack or a nested field is still caught.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const dest: DestinationStream = opts.destination ?? pino.destination({ dest: 1, sync: false });
  const masking: DestinationStream = { write: (line: string) => dest.write(maskPersonalNumbers(line)) };
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'sandebud' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => redact(a)) as Parameters<typeof method>;
          method.apply(this, redacted);
        },
      },
      serializers: { err: (e: unknown) => redact(e) },
    },
    masking,
  );
}
