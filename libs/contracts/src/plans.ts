// The sealing plans and their states alone (TypeBox only, no Node built-ins): what a browser bundle
// (the dashboard's resume dialog) may import from the contracts.
export { PLAN_STATES, SEALING_PLANS, type SealingPlan } from './events/worker';
