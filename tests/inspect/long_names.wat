;; A generator whose function and tag have long names, so that its row in
;; the inspector's list is wider than half of a 160-column terminal.
(module
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $waiting_for_the_next_request)

  (func $a_generator_with_a_long_name
    (suspend $waiting_for_the_next_request))
  (elem declare func $a_generator_with_a_long_name)

  (func (export "run") (result i32)
    (block $on_yield (result (ref $ct))
      (resume $ct (on $waiting_for_the_next_request $on_yield)
        (cont.new $ct (ref.func $a_generator_with_a_long_name)))
      (return (i32.const 0)))
    (drop)
    (i32.const 1))
)
