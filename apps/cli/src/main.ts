// Entry point of the `fleetvisor` command (bin/fleetvisor.js loads the compiled file). Words that
// belong to a service app hand the process over to that app (app-routes.ts); everything else is the
// CLI's own, loaded only then.
import { appRouteFor, handOverToApp } from './app-routes';

const route = appRouteFor(process.argv.slice(2));
if (route) {
  handOverToApp(route.app);
} else {
  void import('./cli-main').then((m) => m.runFleetvisorCli());
}
