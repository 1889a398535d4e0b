; KISSlicer - PRO
; Linux
; version 2 a 2.0.6 Linux64
; Built: Jul 22 2020, 08:28:07
;
; *** Printer Settings ***
;
; printer_name = sample printer
; nozzle_dia_1 = 0.4
; bed_C = 65
; chamber_C = 0
;
; *** Material Settings for Extruder 1 ***
;
; material_name = PLA
; first_layer_C = 215
; temperature_C = 205
;
; *** Style Settings ***
;
; first_layer_thickness_mm = 0.3
; max_layer_thickness_mm = 0.2
M140 S65
M109 S215
G28
; BEGIN_LAYER_OBJECT z=0.3 z_thickness=0.3
G1 Z0.3 F1000
G1 X10 Y10 E1.0 F1800
; END_LAYER_OBJECT z=0.3
; BEGIN_LAYER_OBJECT z=10.1 z_thickness=0.2
G1 Z10.1 F1000
G1 X20 Y10 E2.0 F1800
; END_LAYER_OBJECT z=10.1
M104 S0
;    Ext #1 = 1234.56 mm
; Calculated-during-export Build Time: 42.50 minutes
