/// <reference lib="dom" />
import './api';
