// Every event type Fleetvisor knows, and the catalog built from them.
import { EventCatalog } from '../catalog';
import type { EventDefinition } from '../define-event';
import * as host from './host';

export * from './host';

export const ALL_EVENTS: readonly EventDefinition[] = [...Object.values(host)];

export const fleetEvents = new EventCatalog(ALL_EVENTS);
