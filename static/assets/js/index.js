// Landing and message pages: only the language switch.
import { loadDictionary, wireLangSwitch } from './i18n.js';

loadDictionary().then(wireLangSwitch, wireLangSwitch);
