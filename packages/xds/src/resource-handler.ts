// Per-resource handling of one type URL: convert every resource of a response on its own, reject the ones
// that fail (they become one NACK whose error_detail names each resource and the reason), and apply the
// accepted ones in the same step — one bad resource never holds back the others.
import type { RawAny } from '@ambient-ts/istio-api';
import type { XdsHandler, XdsRejection } from './client-types.ts';
import { errorMessage } from './errors.ts';

/**
 * What converting one resource gave: its value, or why it is rejected. A rejection may still carry a
 * value to `enforce` in its place (e.g. a fail-closed stand-in for a security policy that cannot be
 * understood, so that a NACK never opens a hole); without one, the previous version stays.
 */
export type ResourceOutcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly enforce?: T };

/** One resource's value as `apply` gets it; `accepted` is false for a rejected resource's `enforce` value. */
export interface ConvertedResource<T> {
  readonly name: string;
  readonly value: T;
  readonly accepted: boolean;
}

export interface ResourceHandler<T> {
  /** The type URL every resource must carry; another type is rejected. */
  readonly typeUrl: string;
  /** Decode and convert one resource. Throwing counts as a rejection with the error's message. */
  convert(name: string, resource: RawAny): ResourceOutcome<T>;
  /** Apply one response as a whole: the converted values and the removed names. */
  apply(values: readonly ConvertedResource<T>[], removed: readonly string[]): void;
}

/** The client-facing handler for a ResourceHandler: per-resource outcomes, rejections returned for the NACK. */
export function resourceHandler<T>(handler: ResourceHandler<T>): XdsHandler {
  return {
    handle(update) {
      const rejected: XdsRejection[] = [];
      const values: ConvertedResource<T>[] = [];
      for (const resource of update.resources) {
        const any = resource.resource;
        if (any?.typeUrl !== handler.typeUrl) {
          rejected.push({
            name: resource.name,
            reason: `resource type ${any?.typeUrl ?? '(none)'} is not ${handler.typeUrl}`,
          });
          continue;
        }
        let outcome: ResourceOutcome<T>;
        try {
          outcome = handler.convert(resource.name, any);
        } catch (error) {
          outcome = { ok: false, reason: errorMessage(error) };
        }
        if (outcome.ok) values.push({ name: resource.name, value: outcome.value, accepted: true });
        else {
          rejected.push({ name: resource.name, reason: outcome.reason });
          if (outcome.enforce !== undefined)
            values.push({ name: resource.name, value: outcome.enforce, accepted: false });
        }
      }
      handler.apply(values, update.removed);
      return { rejected };
    },
  };
}
