// ECharts, tree-shaken: only the charts and components the console draws.
import * as echarts from 'echarts/core'
import { BarChart, LineChart, PieChart, ScatterChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, MarkPointComponent, MarkAreaComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([
  BarChart, LineChart, PieChart, ScatterChart,
  GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, MarkPointComponent, MarkAreaComponent,
  CanvasRenderer,
])

export { echarts }
export type { EChartsCoreOption } from 'echarts/core'

/** The palette: deep blue first, then calm companions. */
export const PALETTE = ['#1d3f8f', '#3e7cc9', '#5fb0c9', '#8bc79b', '#e2b65a', '#d9825b', '#a8687d', '#7a7fb0', '#9aa4b2']
