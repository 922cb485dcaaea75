import { randomBytes } from 'node:crypto';

let sequence = 0;

/**
 * An id that sorts in the order events were written on one instance (time, then a counter), with
 * random bits so that instances never collide: events of the same millisecond keep their order.
 */
export function newEventId(at: Date): string {
  sequence = (sequence + 1) % 0x10000;
  return `${at.getTime().toString(16).padStart(12, '0')}${sequence.toString(16).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
}
