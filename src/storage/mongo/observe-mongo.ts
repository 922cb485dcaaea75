import type { Connection, mongo } from 'mongoose';
import { commandLabel, type StoreObserver } from '../observer.ts';

/**
 * Reports a mongoose connection's commands (the driver's command monitoring events:
 * https://www.mongodb.com/docs/drivers/node/current/monitoring-and-logging/monitoring/#command-events)
 * and its state: mongoose says 'disconnected' once when the server stops answering its heartbeats
 * and 'reconnected' once when it answers again, so each change is reported once.
 */
export function observeMongo(connection: Connection, observer: StoreObserver): void {
  const { command, connection: changed } = observer;
  if (command) {
    const client = connection.getClient();
    client.on('commandSucceeded', (event: mongo.CommandSucceededEvent) =>
      command('mongodb', commandLabel(event.commandName), event.duration / 1000, true),
    );
    client.on('commandFailed', (event: mongo.CommandFailedEvent) =>
      command('mongodb', commandLabel(event.commandName), event.duration / 1000, false),
    );
  }
  if (changed) {
    let closing = false;
    let opened = false;
    connection.on('connected', () => {
      opened = true;
    });
    // close() passes through 'disconnecting' first; a lost server goes straight to 'disconnected'.
    connection.on('disconnecting', () => {
      closing = true;
    });
    connection.on('disconnected', () => {
      if (opened && !closing) changed({ store: 'mongodb', connection: 'main', state: 'lost' });
    });
    connection.on('reconnected', () => {
      if (!closing) changed({ store: 'mongodb', connection: 'main', state: 'restored' });
    });
  }
}
