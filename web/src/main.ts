import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router'
import { i18n, currentLocale } from './i18n'
import './styles/main.css'

document.documentElement.lang = currentLocale()
createApp(App).use(i18n).use(router).mount('#app')
