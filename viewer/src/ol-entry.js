// The parts of OpenLayers and proj4 the dronegis viewer uses, bundled from npm into
// dronegis/api/static/ol/ol.js as the global `dronegisOl` (no CDN at run time).
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import Feature from 'ol/Feature.js';
import TileLayer from 'ol/layer/Tile.js';
import ImageLayer from 'ol/layer/Image.js';
import VectorLayer from 'ol/layer/Vector.js';
import TileWMS from 'ol/source/TileWMS.js';
import ImageWMS from 'ol/source/ImageWMS.js';
import OSM from 'ol/source/OSM.js';
import VectorSource from 'ol/source/Vector.js';
import WMTS, {optionsFromCapabilities} from 'ol/source/WMTS.js';
import WMTSCapabilities from 'ol/format/WMTSCapabilities.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import Point from 'ol/geom/Point.js';
import {Style, Fill, Stroke, Text, Circle as CircleStyle} from 'ol/style.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import MousePosition from 'ol/control/MousePosition.js';
import Zoom from 'ol/control/Zoom.js';
import Attribution from 'ol/control/Attribution.js';
import {defaults as defaultInteractions} from 'ol/interaction/defaults.js';
import {register} from 'ol/proj/proj4.js';
import {get as getProjection, transformExtent, transform} from 'ol/proj.js';
import {getCenter} from 'ol/extent.js';
import {createStringXY} from 'ol/coordinate.js';
import proj4 from 'proj4';

export {
  Map, View, Feature, TileLayer, ImageLayer, VectorLayer, TileWMS, ImageWMS, OSM, VectorSource,
  WMTS, WMTSCapabilities, optionsFromCapabilities, GeoJSON, Point,
  Style, Fill, Stroke, Text, CircleStyle,
  ScaleLine, MousePosition, Zoom, Attribution, defaultInteractions,
  register, getProjection, transformExtent, transform, getCenter, createStringXY, proj4,
};
