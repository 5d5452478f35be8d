// Copy the browser assets that are not bundled next to the bundle: OpenLayers' stylesheet,
// and Swagger UI (npm swagger-ui-dist) for the offline API docs at /docs.
import {copyFileSync, mkdirSync} from 'node:fs';

const STATIC = '../dronegis/api/static';
mkdirSync(`${STATIC}/ol`, {recursive: true});
copyFileSync('node_modules/ol/ol.css', `${STATIC}/ol/ol.css`);
mkdirSync(`${STATIC}/swagger-ui`, {recursive: true});
for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png', 'LICENSE']) {
  copyFileSync(`node_modules/swagger-ui-dist/${name}`, `${STATIC}/swagger-ui/${name}`);
}
