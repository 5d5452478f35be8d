// The parts of OpenLayers and proj4 the dronegis viewer uses, bundled from npm into
// dronegis/api/static/ol/ol.js as the global `dronegisOl` (no CDN at run time).
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import TileLayer from 'ol/layer/Tile.js';
import ImageLayer from 'ol/layer/Image.js';
import TileWMS from 'ol/source/TileWMS.js';
import ImageWMS from 'ol/source/ImageWMS.js';
import OSM from 'ol/source/OSM.js';
import WMTS, {optionsFromCapabilities} from 'ol/source/WMTS.js';
import WMTSCapabilities from 'ol/format/WMTSCapabilities.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import MousePosition from 'ol/control/MousePosition.js';
import {register} from 'ol/proj/proj4.js';
import {get as getProjection, transformExtent, transform} from 'ol/proj.js';
import {createStringXY} from 'ol/coordinate.js';
import proj4 from 'proj4';

export {
  Map, View, TileLayer, ImageLayer, TileWMS, ImageWMS, OSM, ScaleLine, MousePosition,
  WMTS, WMTSCapabilities, optionsFromCapabilities,
  register, getProjection, transformExtent, transform, createStringXY, proj4,
};
