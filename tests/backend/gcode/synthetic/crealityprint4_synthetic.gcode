;FLAVOR:Marlin
;TIME:2400
;Filament used: 2.5m
;Layer height: 0.16
;MINX:90.1
;MINY:90.1
;MINZ:0.2
;MAXX:129.9
;MAXY:129.9
;MAXZ:25.12
;Creality Print Version : 4.3.7.6627
;Nozzle diameter = 0.4
;Filament type = PLA
;Filament name = Hyper PLA
;Filament weight = [7.45]
M140 S60
M104 S220
M190 S60
M109 S220
;LAYER_COUNT:156
;LAYER:0
G0 F3600 X100 Y100 Z0.2
G1 X110 Y100 E1.0
;LAYER:1
G0 X100 Y100 Z0.36
G1 X110 Y100 E2.0
;TIME_ELAPSED:2400.000000
M104 S0
;End of Gcode
