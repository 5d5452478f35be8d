// Copy OpenLayers' stylesheet next to the bundle.
import {copyFileSync, mkdirSync} from 'node:fs';
mkdirSync('../dronegis/api/static/ol', {recursive: true});
copyFileSync('node_modules/ol/ol.css', '../dronegis/api/static/ol/ol.css');
