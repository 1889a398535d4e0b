; HEADER_BLOCK_START
; BambuStudio 01.08.04.51
; model printing time: 52m 10s; total estimated time: 58m 31s
; total layer number: 75
; total filament length [mm] : 3456.78
; total filament volume [cm^3] : 8.31
; total filament weight [g] : 10.31
; filament_density: 1.24
; filament_diameter: 1.75
; max_z_height: 15.00
; HEADER_BLOCK_END

; CONFIG_BLOCK_START
; chamber_temperatures = 0
; curr_bed_type = Cool Plate
; filament_colour = #FF6A13
; filament_settings_id = "Bambu PLA Basic @BBL X1C"
; filament_type = PLA
; hot_plate_temp = 55
; hot_plate_temp_initial_layer = 55
; initial_layer_print_height = 0.2
; layer_height = 0.2
; nozzle_diameter = 0.4
; nozzle_temperature = 220
; nozzle_temperature_initial_layer = 220
; printer_model = Bambu Lab X1 Carbon
; sparse_infill_density = 15%
; CONFIG_BLOCK_END

; EXECUTABLE_BLOCK_START
M140 S55
M104 S220
G28
M190 S55
M109 S220
; CHANGE_LAYER
; Z_HEIGHT: 0.2
; LAYER_HEIGHT: 0.2
G1 Z.2 F1200
G1 X10 Y10 E1.2 F1800
; CHANGE_LAYER
; Z_HEIGHT: 15
; LAYER_HEIGHT: 0.2
G1 Z15 F1200
G1 X20 Y10 E2.4 F1800
M104 S0
M140 S0
; EXECUTABLE_BLOCK_END
; filament used [mm] = 3456.78
; filament used [cm3] = 8.31
; filament used [g] = 10.31
; filament cost = 0.21
; total filament used [g] = 10.31
; total filament cost = 0.21
; total layers count = 75
; estimated printing time (normal mode) = 58m 31s
