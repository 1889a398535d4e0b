; <IceSL 2.5.2>
; z_layer_height_first_layer_mm :  0.3
; z_layer_height_mm :  0.2
; print_height_mm :  12.3
; nozzle_diameter_mm_0 :  0.4
; filament_diameter_mm_0 :  1.75
; extruder_temp_degree_c_0 :  210
; bed_temp_degree_c :  60
; chamber_temp_degree_c :  0
; filament_used_mm :  987.6
; filament_used_g :  2.9
; filament_name :  Generic PLA
; filament_type :  PLA
; estimated_print_time_s :  1800
; layer_count :  61
M190 S60
M109 S210
G28
G1 Z0.3 F600
G1 X10 Y10 E1.0 F1800
G1 Z12.3 F600
G1 X20 Y10 E2.0 F1800
M104 S0
